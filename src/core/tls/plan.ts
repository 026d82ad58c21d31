/**
 * When deploy issues a server certificate, and for which names. Pure: the caller reads the live Secrets
 * and the load balancer's address and hands them in.
 */
import { names } from "../render/names.js";
import { type CertificateFacts, type SubjectNames, subjectNames } from "./certificates.js";

const DAY_MS = 86_400_000;
/** `status` warns this many days before the server certificate expires; deploy renews by then. */
export const EXPIRY_WARNING_DAYS = 30;

/**
 * How long before expiry deploy renews: 30 days, or a third of the validity for short-lived certificates
 * (as cert-manager's default renewBefore), so that a fresh certificate is never due again at once.
 */
export function renewBeforeMs(validityDays: number): number {
  return Math.min(EXPIRY_WARNING_DAYS * DAY_MS, (validityDays * DAY_MS) / 3);
}

/**
 * The names clients reach the registry by: the load balancer's DNS name or address, the configured
 * host name, and the Service's cluster names (for pods that use them).
 */
export function serverNames(namespace: string, hostname?: string, loadBalancerHost?: string): SubjectNames {
  return subjectNames([
    loadBalancerHost ?? "",
    hostname ?? "",
    `${names.service}.${namespace}.svc`,
    `${names.service}.${namespace}.svc.cluster.local`,
  ]);
}

/** host of "host:port" (IPv6 in brackets comes back without them). */
export function hostOf(address: string): string {
  const match = /^\[(.*)\]:\d+$/.exec(address) ?? /^(.*):\d+$/.exec(address);
  return match?.[1] ?? address;
}

export interface CurrentServerCertificate {
  facts: CertificateFacts;
  /** Signed by the CA in the CA Secret. */
  issuedByCa: boolean;
  /** The Secret's key belongs to its certificate. */
  keyMatches: boolean;
}

/** Why the server certificate must be issued anew, or undefined when the current one is good. */
export function renewalReason(
  current: CurrentServerCertificate | undefined,
  wanted: SubjectNames,
  now: Date,
  validityDays: number,
): string | undefined {
  if (!current) return "there is no server certificate yet";
  const { facts } = current;
  if (!current.issuedByCa) return "the server certificate was not issued by the CA in the cluster";
  if (!current.keyMatches) return "the server certificate's key does not belong to it";
  const missing = [
    ...wanted.dns.filter((n) => !facts.dns.includes(n)),
    ...wanted.ips.filter((n) => !facts.ips.includes(n)),
  ];
  if (missing.length > 0) return `the server certificate does not cover ${missing.join(", ")}`;
  const left = facts.notAfter.getTime() - now.getTime();
  if (left <= renewBeforeMs(validityDays)) {
    return `the server certificate expires ${expiryText(facts.notAfter, now)}`;
  }
  return undefined;
}

/** "on 2027-01-05 (in 29 days)", or "on … (expired 3 days ago)". */
export function expiryText(notAfter: Date, now: Date): string {
  const days = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  const date = notAfter.toISOString().slice(0, 10);
  if (notAfter.getTime() <= now.getTime()) return `on ${date} (expired ${-days} day(s) ago)`;
  return `on ${date} (in ${days} day(s))`;
}

/** The warning `status` gives from 30 days before expiry, or undefined. */
export function expiryWarning(notAfter: Date, now: Date): string | undefined {
  if (notAfter.getTime() - now.getTime() > EXPIRY_WARNING_DAYS * DAY_MS) return undefined;
  return notAfter.getTime() <= now.getTime()
    ? `the registry's server certificate expired ${expiryText(notAfter, now)}: run \`clouddrove deploy\` to renew it`
    : `the registry's server certificate expires ${expiryText(notAfter, now)}: run \`clouddrove deploy\` to renew it`;
}

/** Said on every deploy and status while the registry speaks plain HTTP (tls.mode insecure-http). */
export const insecureHttpWarning =
  "tls.mode insecure-http: the registry speaks plain HTTP, so the password crosses the network in clear text " +
  "and every Docker and containerd client must list it as an insecure registry; drop --insecure-http " +
  "(tls.mode private-ca) to serve TLS.";
