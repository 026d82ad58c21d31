/**
 * The registry's TLS objects per tls.mode: with private-ca the CA Secret, its public ConfigMap and the
 * server certificate Secret carry the material deploy made or read back, the pod mounts the certificate
 * and the liveness probe speaks HTTPS; with insecure-http all of that is left out.
 */
import { createHash } from "node:crypto";
import type { Config } from "../../config/schema.js";
import { OperationError } from "../../errors.js";
import { names } from "./names.js";
import { at, findObject, listAt, named } from "./paths.js";
import { setSecretData } from "./secrets.js";
import { applySecretTls, type ServedSecret } from "./tls-modes.js";
import type { KubeObject } from "./types.js";

/** A certificate and its key, as PEM: certificates as "CERTIFICATE", keys as PKCS#8 "PRIVATE KEY". */
export interface KeyPairPem {
  certificate: string;
  /** Only ever written into a Secret. */
  key: string;
}

/** The private CA and the server certificate it issued. */
export interface ServerTls {
  ca: KeyPairPem;
  server: KeyPairPem;
}

/** Objects that exist only for TLS: left out of the render with insecure-http. */
const TLS_OBJECTS = [
  { kind: "Secret", name: names.caSecret },
  { kind: "ConfigMap", name: names.caConfigMap },
  { kind: "Secret", name: names.tlsSecret },
];

/** The registry serves TLS itself in this mode (private-ca, secret); with acm the load balancer does. */
export function servesTls(config: Pick<Config, "tls">): boolean {
  return config.tls.mode === "private-ca" || config.tls.mode === "secret";
}

/** clouddrove's own CA issues the served certificate (tls.mode private-ca). */
export function usesPrivateCa(config: Pick<Config, "tls">): boolean {
  return config.tls.mode === "private-ca";
}

/** A digest of the served certificate for the pod template: a renewed certificate rolls the pods. */
export function certificateChecksum(tls: ServerTls): string {
  return createHash("sha256").update(tls.server.certificate).digest("hex");
}

/**
 * Fills (private-ca) or removes (insecure-http, acm: the registry speaks HTTP) the TLS parts; tls.mode
 * secret is tls-modes.ts's. Returns the objects to render.
 */
export function applyTls(
  objects: KubeObject[],
  config: Config,
  tls: ServerTls | undefined,
  served?: ServedSecret,
): KubeObject[] {
  if (config.tls.mode === "secret") return applySecretTls(objects, config, served);
  const deployment = findObject(objects, "Deployment", names.deployment);
  const template = at(deployment, "spec", "template");
  const podSpec = at(template, "spec");
  const container = named(listAt(podSpec, "containers"), names.container);
  // Both probes speak the registry's protocol, in the scheme it serves.
  const probes = ["livenessProbe", "readinessProbe"].map((kind) => at(container, kind, "httpGet"));
  if (!servesTls(config)) {
    podSpec.volumes = listAt(podSpec, "volumes").filter((v) => v.name !== names.tlsVolume);
    container.volumeMounts = listAt(container, "volumeMounts").filter((m) => m.name !== names.tlsVolume);
    for (const probe of probes) probe.scheme = "HTTP";
    return objects.filter((o) => !TLS_OBJECTS.some((t) => t.kind === o.kind && t.name === o.metadata.name));
  }
  if (!tls) {
    throw new OperationError(`tls.mode ${config.tls.mode} needs the CA and server certificate to render`, {
      hint: "This is a defect of clouddrove: deploy makes them before it renders.",
    });
  }
  for (const probe of probes) probe.scheme = "HTTPS";
  const keys = names.secretKeys;
  setSecretData(findObject(objects, "Secret", names.caSecret), {
    [keys.caCertificate]: tls.ca.certificate,
    [keys.caKey]: tls.ca.key,
  });
  at(findObject(objects, "ConfigMap", names.caConfigMap), "data")[keys.caCertificate] = tls.ca.certificate;
  setSecretData(findObject(objects, "Secret", names.tlsSecret), {
    [keys.tlsCertificate]: tls.server.certificate,
    [keys.tlsKey]: tls.server.key,
    [keys.caCertificate]: tls.ca.certificate,
  });
  at(template, "metadata", "annotations")[names.annotations.certificateChecksum] = certificateChecksum(tls);
  return objects;
}
