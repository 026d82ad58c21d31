/**
 * The registry's address as image names use it (HOST:PORT), taken from the load balancer's status. The
 * host becomes a directory name under /etc/.../certs.d, so anything that is not a plain host name or IP
 * address is refused rather than joined into a path.
 */
import { isIP } from "node:net";
import { OperationError } from "../../errors.js";
import { hostname as hostnameCheck } from "../validators.js";

export interface RegistryAddress {
  host: string;
  port: number;
}

/** HOST:PORT, an IPv6 host in brackets: the registry part of an image name and the certs.d directory. */
export function hostPort(address: RegistryAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

interface ServiceShape {
  metadata?: { name?: string };
  spec?: { ports?: Array<{ port?: number; name?: string }> };
  status?: {
    loadBalancer?: { ingress?: Array<{ hostname?: string; ip?: string; ports?: Array<{ port?: number }> }> };
  };
}

/**
 * Every address of the load balancer (its DNS name and/or IPs) with the registry's port. Clients name the
 * registry by one of them, and each needs its own certs.d directory. The port is the one the ingress
 * reports for the registry's Service port when it reports ports (as deploy reads it), else the Service's.
 */
export function loadBalancerAddresses(service: ServiceShape, registryPort: number): RegistryAddress[] {
  const name = `Service ${service.metadata?.name ?? "?"}`;
  const servicePorts = service.spec?.ports ?? [];
  const index = servicePorts.findIndex((p) => p.port === registryPort);
  if (index < 0) {
    throw new OperationError(`${name} has no port ${registryPort}`, {
      hint: "Run clouddrove deploy to restore the registry's Service.",
    });
  }
  const addresses = (service.status?.loadBalancer?.ingress ?? []).flatMap((ingress) => {
    const port = ingress.ports?.[index]?.port ?? registryPort;
    return [ingress.hostname, ingress.ip]
      .filter((h): h is string => typeof h === "string" && h !== "")
      .map((host) => ({ host, port }));
  });
  if (addresses.length === 0) {
    throw new OperationError(`${name} has no load balancer address yet`, {
      hint: "Wait for clouddrove deploy to finish (it waits for the address), or see `clouddrove status`.",
    });
  }
  for (const { host } of addresses) {
    if (hostnameCheck(host) !== undefined || host.includes("..")) {
      throw new OperationError(`${name} reports a load balancer address that is not a host name: '${host}'`, {
        hint: "Check the Service's status.loadBalancer with kubectl; the cloud's controller writes it.",
      });
    }
  }
  const unique = new Map(addresses.map((address) => [hostPort(address), address]));
  return [...unique.values()];
}
