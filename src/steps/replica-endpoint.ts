/**
 * The registry endpoint of one replica reached through a port-forward, shared by deploy's smoke test,
 * status's logins and upgrade's checks.
 */
import type { RegistryEndpoint } from "../adapters/registry.js";
import { names } from "../core/render/names.js";

/**
 * A certificate that is not clouddrove's (tls.mode secret): the CA to trust (the system's when undefined:
 * a publicly trusted issuer) and the name to check (undefined: the address itself, 127.0.0.1).
 */
export interface ServedTrust {
  ca?: string;
  servername?: string;
}

/**
 * How to speak to a replica through a port-forward on 127.0.0.1: plain HTTP (no trust given); HTTPS
 * trusting only the private CA (a string) and checking the certificate for the Service's cluster name
 * (which it must carry); or HTTPS as `ServedTrust` says.
 */
export function replicaEndpoint(
  localPort: number,
  namespace: string,
  trust: string | ServedTrust | undefined,
): Pick<RegistryEndpoint, "baseUrl" | "tls"> {
  if (trust === undefined) return { baseUrl: `http://127.0.0.1:${localPort}` };
  const tls =
    typeof trust === "string" ? { ca: trust, servername: `${names.service}.${namespace}.svc` } : trust;
  return { baseUrl: `https://127.0.0.1:${localPort}`, tls };
}
