/**
 * Deciding, before deploy renders, which CA and server certificate it applies: the ones in the cluster
 * while they are good, a CA made once when there is none, a server certificate issued anew when it is
 * missing, due for renewal or short of a name.
 */
import type { Config } from "../../config/schema.js";
import type { ServerTls } from "../render/tls.js";
import {
  createCertificateAuthority,
  isIssuedBy,
  issueServerCertificate,
  type KeyPairPem,
  keyMatches,
  readCertificate,
} from "./certificates.js";
import { type CurrentServerCertificate, renewalReason, serverNames } from "./plan.js";

/** The TLS material the cluster holds (either part may be missing or broken). */
export interface LiveTls {
  ca?: KeyPairPem;
  server?: KeyPairPem;
}

export interface PreparedTls {
  tls: ServerTls;
  /** A CA was made in this run (there was none, or it could not be used). */
  caCreated: boolean;
  /** Why the server certificate was issued in this run; undefined when the live one is kept. */
  issued?: string;
}

/** The live CA when it is usable: a CA certificate whose key is the Secret's. */
async function usableCa(ca: KeyPairPem | undefined): Promise<KeyPairPem | undefined> {
  if (!ca?.certificate || !ca.key) return undefined;
  return (await keyMatches(ca)) ? ca : undefined;
}

export async function readServerCertificate(
  server: KeyPairPem | undefined,
  ca: KeyPairPem,
): Promise<CurrentServerCertificate | undefined> {
  if (!server?.certificate) return undefined;
  const facts = await readCertificate(server.certificate);
  if (!facts) return undefined;
  return {
    facts,
    issuedByCa: await isIssuedBy(server.certificate, ca.certificate),
    keyMatches: Boolean(server.key) && (await keyMatches(server)),
  };
}

/**
 * `loadBalancerHost`: the load balancer's DNS name or address, when it has one; without it the
 * certificate covers the other names (deploy issues it again once the address is known).
 */
export async function prepareServerTls(
  config: Config,
  live: LiveTls,
  loadBalancerHost: string | undefined,
  now: Date,
): Promise<PreparedTls> {
  const existing = await usableCa(live.ca);
  const ca =
    existing ?? (await createCertificateAuthority(`clouddrove registry CA (${config.namespace})`, now));
  const wanted = serverNames(config.namespace, config.tls.hostname, loadBalancerHost);
  const reason = renewalReason(
    await readServerCertificate(live.server, ca),
    wanted,
    now,
    config.tls.certificateDays,
  );
  if (reason === undefined && live.server) {
    return { tls: { ca, server: live.server }, caCreated: !existing };
  }
  const server = await issueServerCertificate(ca, wanted, now, config.tls.certificateDays);
  return { tls: { ca, server }, caCreated: !existing, issued: reason };
}

/** The served certificate as the deploy report shows it. */
export async function certificateSummary(
  prepared: PreparedTls,
): Promise<{ names: string[]; notAfter: string; issued?: string; caCreated: boolean } | undefined> {
  const facts = await readCertificate(prepared.tls.server.certificate);
  if (!facts) return undefined;
  return {
    names: [...facts.dns, ...facts.ips],
    notAfter: facts.notAfter.toISOString(),
    ...(prepared.issued ? { issued: prepared.issued } : {}),
    caCreated: prepared.caCreated,
  };
}
