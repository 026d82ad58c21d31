/**
 * tls.mode secret: whether a kubernetes.io/tls Secret can be served as the registry's certificate, and
 * whether clients must be told to trust its issuer. Pure: the caller reads the Secret and hands it in.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { rootCertificates } from "node:tls";
import { keyMatches, readCertificate } from "./certificates.js";
import { covers } from "./name-match.js";

/** A Secret as read from the cluster, decoded; `key` stays in memory only. */
export interface SecretContent {
  type?: string;
  certificate?: string;
  key?: string;
  caCertificate?: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle (a tls.crt holds the server's, then the intermediates). */
function certificatesOf(pem: string | undefined): X509Certificate[] {
  const found: X509Certificate[] = [];
  for (const block of pem?.match(PEM_CERTIFICATE) ?? []) {
    try {
      found.push(new X509Certificate(block));
    } catch {
      // Not a certificate: the checks below report the server certificate itself when it is unreadable.
    }
  }
  return found;
}

let roots: X509Certificate[] | undefined;

/**
 * Whether the chain in tls.crt leads to a root Node ships (Mozilla's list, which Docker's and most
 * systems' stores also hold): then clients trust it as it is and nothing needs installing.
 */
export function isPubliclyTrusted(chainPem: string): boolean {
  roots ??= rootCertificates.map((pem) => new X509Certificate(pem));
  const chain = certificatesOf(chainPem);
  let current = chain[0];
  for (let depth = 0; current && depth < 8; depth++) {
    const issued = current;
    if (roots.some((root) => issued.checkIssued(root) && issued.verify(root.publicKey))) return true;
    current = chain.find((c) => c !== issued && issued.checkIssued(c) && issued.verify(c.publicKey));
  }
  return false;
}

/** Whether the private key is well-formed PEM (checked before pairing, so a bad one is named as such). */
function readableKey(key: string): boolean {
  try {
    createPrivateKey(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * What is wrong with the Secret as the registry's certificate, one line each (empty: it can be served).
 * `names`: what clients will ask for (tls.hostname, the load balancer's name when known).
 */
export async function servedSecretProblems(
  secret: SecretContent | undefined,
  where: string,
  names: string[],
  now: Date,
): Promise<string[]> {
  if (!secret) return [`Secret ${where} does not exist`];
  if (secret.type !== "kubernetes.io/tls") {
    return [`Secret ${where} is of type ${secret.type ?? "(none)"}, not kubernetes.io/tls`];
  }
  const facts = secret.certificate ? await readCertificate(secret.certificate) : undefined;
  if (!facts) return [`Secret ${where} holds no readable PEM certificate under tls.crt`];
  const problems: string[] = [];
  if (facts.notBefore.getTime() > now.getTime()) {
    problems.push(`its certificate is not valid before ${facts.notBefore.toISOString()}`);
  }
  if (facts.notAfter.getTime() <= now.getTime()) {
    problems.push(`its certificate expired on ${facts.notAfter.toISOString()}`);
  }
  const missing = names.filter((name) => !covers(facts, name));
  if (missing.length > 0) {
    const has = [...facts.dns, ...facts.ips].join(", ") || "no names";
    problems.push(`its certificate does not cover ${missing.join(", ")} (it names ${has})`);
  }
  if (!secret.key || !readableKey(secret.key)) problems.push("tls.key holds no readable PEM private key");
  else if (!(await keyMatches({ certificate: secret.certificate as string, key: secret.key }))) {
    problems.push("tls.key is not the key of the certificate in tls.crt");
  }
  return problems.map((p) => `Secret ${where}: ${p}`);
}

/**
 * The CA clients and nodes must be told to trust: the Secret's ca.crt when the certificate does not
 * chain to a public root (cert-manager's CA and self-signed issuers write ca.crt); undefined when it
 * does, or when the Secret has no ca.crt.
 */
export function privateIssuer(secret: SecretContent): string | undefined {
  if (!secret.certificate || isPubliclyTrusted(secret.certificate)) return undefined;
  return certificatesOf(secret.caCertificate).length > 0 ? secret.caCertificate : undefined;
}

/**
 * How clouddrove itself checks a replica that serves this certificate through a port-forward: trusting
 * the Secret's private CA (or the system's), for the name clients use — tls.hostname, else the first DNS
 * name of the certificate (a wildcard's label filled in), else its address (no name to check).
 */
export function servedTrust(
  certificate: string,
  privateCa: string | undefined,
  hostname?: string,
): { ca?: string; servername?: string } {
  let servername = hostname;
  if (!servername) {
    const first = certificatesOf(certificate)[0];
    const dns = (first?.subjectAltName ?? "")
      .split(", ")
      .filter((e) => e.startsWith("DNS:"))
      .map((e) => e.slice(4));
    const name = dns[0];
    servername = name?.startsWith("*.") ? `registry.${name.slice(2)}` : name;
  }
  return { ...(privateCa ? { ca: privateCa } : {}), ...(servername ? { servername } : {}) };
}
