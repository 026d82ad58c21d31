/**
 * The registry's CA certificate as clients get it: exactly one PEM certificate, a CA, never a key. What is
 * installed on a machine is checked here first, so a wrong object in the cluster cannot put a key or a
 * leaf certificate into a trust store.
 */
import { createHash, X509Certificate } from "node:crypto";
import { OperationError } from "../../errors.js";

export interface CaCertificate {
  /** The certificate, PEM, ending in one newline. */
  pem: string;
  subject: string;
  notAfter: string;
  /** SHA-256 of the DER, colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint: string;
  /** SHA-256 of the PEM text, to roll the node-trust pods when the CA changes. */
  sha256: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** `where` names the object the PEM came from, for the error. */
export function parseCaCertificate(text: string, where: string): CaCertificate {
  const blocks = [...text.matchAll(BLOCK)];
  const fix = {
    hint: `Run clouddrove deploy again to recreate ${where} from the CA Secret, then retry.`,
  };
  // Not even parsed: a key must never reach a trust store, whatever else the text holds.
  if (blocks.some((block) => / KEY$/.test(block[1] as string))) {
    throw new OperationError(`${where} holds a private key; it must hold the CA certificate only`, fix);
  }
  if (blocks.length !== 1 || blocks[0]?.[1] !== "CERTIFICATE") {
    throw new OperationError(`${where} does not hold exactly one PEM certificate`, fix);
  }
  const pem = `${(blocks[0] as RegExpMatchArray)[0]}\n`;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    throw new OperationError(`${where} holds a certificate that cannot be read`, { ...fix, cause: error });
  }
  if (!certificate.ca) {
    throw new OperationError(`${where} holds a certificate that is not a CA (${certificate.subject})`, fix);
  }
  return {
    pem,
    subject: certificate.subject.replaceAll("\n", ", "),
    notAfter: new Date(certificate.validTo).toISOString(),
    fingerprint: certificate.fingerprint256,
    sha256: createHash("sha256").update(pem).digest("hex"),
  };
}
