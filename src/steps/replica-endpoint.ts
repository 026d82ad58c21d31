/**
 * The registry endpoint of one replica reached through a port-forward, shared by deploy's smoke test,
 * status's logins and upgrade's checks.
 */
import type { RegistryEndpoint } from "../adapters/registry.js";
import { names } from "../core/render/names.js";

/**
 * How to speak to a replica through a port-forward on 127.0.0.1: plain HTTP, or HTTPS trusting only the
 * private CA and checking the certificate for the Service's cluster name (which it must carry).
 */
export function replicaEndpoint(
  localPort: number,
  namespace: string,
  caCertificate: string | undefined,
): Pick<RegistryEndpoint, "baseUrl" | "tls"> {
  if (caCertificate === undefined) return { baseUrl: `http://127.0.0.1:${localPort}` };
  return {
    baseUrl: `https://127.0.0.1:${localPort}`,
    tls: { ca: caCertificate, servername: `${names.service}.${namespace}.svc` },
  };
}
