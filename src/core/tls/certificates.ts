/**
 * The private CA and the server certificates it issues, made with @peculiar/x509 (no ASN.1 by hand).
 * Everything is PEM text: certificates as "CERTIFICATE", keys as PKCS#8 "PRIVATE KEY".
 */
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import type { KeyPairPem } from "../render/tls.js";
import { KEY_ALGORITHM, x509 } from "./x509.js";

export type { KeyPairPem };

/** The names a server certificate is issued for. */
export interface SubjectNames {
  dns: string[];
  ips: string[];
}

/** What clouddrove needs to know about a certificate it finds in the cluster. */
export interface CertificateFacts {
  notBefore: Date;
  notAfter: Date;
  dns: string[];
  ips: string[];
  subject: string;
  /** sha256 of the DER, as openssl x509 -fingerprint -sha256 prints it (colon-separated hex). */
  fingerprint: string;
}

const DAY_MS = 86_400_000;
/** The CA outlives many server certificates: clients trust it once. */
export const CA_VALIDITY_DAYS = 3650;
/** Certificates start a little in the past: a client whose clock is behind must not see one "not yet valid". */
const BACKDATE_MS = 5 * 60_000;

/** A positive serial of 16 random bytes (RFC 5280 4.1.2.2: at most 20 octets, non-negative). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString("hex");
}

/** PEM text ending in a newline, as files and tools expect it. */
const pemFile = (text: string) => (text.endsWith("\n") ? text : `${text}\n`);

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const lib = await x509();
  return pemFile(lib.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY"));
}

/** Splits names into DNS names and IP addresses, each once, in the order given. */
export function subjectNames(names: string[]): SubjectNames {
  const unique = [...new Set(names.filter((n) => n !== ""))];
  return { dns: unique.filter((n) => isIP(n) === 0), ips: unique.filter((n) => isIP(n) !== 0) };
}

export async function createCertificateAuthority(commonName: string, now: Date): Promise<KeyPairPem> {
  const lib = await x509();
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const certificate = await lib.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [commonName] }, { O: ["clouddrove"] }],
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: KEY_ALGORITHM,
    keys,
    extensions: [
      // pathlen 0: it signs server certificates only, never another CA.
      new lib.BasicConstraintsExtension(true, 0, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate: pemFile(certificate.toString("pem")), key: await exportKey(keys.privateKey) };
}

export async function issueServerCertificate(
  ca: KeyPairPem,
  names: SubjectNames,
  now: Date,
  validityDays: number,
): Promise<KeyPairPem> {
  const lib = await x509();
  const caCertificate = new lib.X509Certificate(ca.certificate);
  const caKey = await webcrypto.subtle.importKey(
    "pkcs8",
    lib.PemConverter.decodeFirst(ca.key),
    KEY_ALGORITHM,
    false,
    ["sign"],
  );
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const notAfter = Math.min(now.getTime() + validityDays * DAY_MS, caCertificate.notAfter.getTime());
  const certificate = await lib.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    // Clients check the subjectAltName only (Go since 1.15 ignores the common name); the CN is for people.
    subject: [{ CN: [names.dns[0] ?? names.ips[0] ?? "registry"] }, { O: ["clouddrove"] }],
    issuer: caCertificate.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: KEY_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new lib.BasicConstraintsExtension(false, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
      new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth]),
      new lib.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: "dns" as const, value })),
        ...names.ips.map((value) => ({ type: "ip" as const, value })),
      ]),
      await lib.AuthorityKeyIdentifierExtension.create(caCertificate),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate: pemFile(certificate.toString("pem")), key: await exportKey(keys.privateKey) };
}

/*
 * Reading a certificate needs no X.509 library: Node's own crypto.X509Certificate parses it, checks a
 * signature and pairs a key. Every deploy and status reads the live certificate; only issuing one loads
 * @peculiar/x509 (about 23 MiB and 0.3 s of a no-op deploy when it also read them).
 */

/** An IP as the certificate's SAN holds it, written as Node writes addresses (IPv6 compressed, lowercase). */
function normalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** Reads a PEM certificate; undefined when it is not one. */
export async function readCertificate(pem: string): Promise<CertificateFacts | undefined> {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    return undefined;
  }
  // "DNS:a, DNS:b, IP Address:127.0.0.1" (a name holding ", " would be quoted; clouddrove issues none).
  const entries = (certificate.subjectAltName ?? "").split(", ").filter((e) => e !== "");
  const after = (prefix: string) =>
    entries.filter((e) => e.startsWith(prefix)).map((e) => e.slice(prefix.length));
  return {
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
    dns: after("DNS:").map((name) => name.toLowerCase()),
    ips: after("IP Address:").map(normalIp),
    subject: certificate.subject.replaceAll("\n", ", "),
    fingerprint: certificate.fingerprint256,
  };
}

/** Whether `certificate` carries a valid signature of `ca`'s key (i.e. clients trusting the CA accept it). */
export async function isIssuedBy(certificate: string, ca: string): Promise<boolean> {
  try {
    return new X509Certificate(certificate).verify(new X509Certificate(ca).publicKey);
  } catch {
    return false;
  }
}

/** Whether the private key belongs to the certificate (a Secret edited by hand could pair them wrongly). */
export async function keyMatches(pair: KeyPairPem): Promise<boolean> {
  try {
    return new X509Certificate(pair.certificate).checkPrivateKey(createPrivateKey(pair.key));
  } catch {
    return false;
  }
}
