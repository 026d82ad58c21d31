/** The registry's TLS as `status` reports it: the live Deployment's scheme and the served certificate. */
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { names } from "../../core/render/names.js";
import { readCertificate } from "../../core/tls/certificates.js";
import { servedScheme, type TlsStatus, tlsStatus } from "../../core/tls/status.js";

export async function gatherTlsStatus(kube: Kube, namespace: string, now: Date): Promise<TlsStatus> {
  const [deployment, secret] = await Promise.all([
    kube.get(named(Kinds.Deployment, names.deployment, namespace)),
    kube.get(named(Kinds.Secret, names.tlsSecret, namespace)),
  ]);
  const encoded = secret?.data?.[names.secretKeys.tlsCertificate];
  // Only the certificate is decoded; the key in the same Secret is never read here.
  const facts =
    typeof encoded === "string"
      ? await readCertificate(Buffer.from(encoded, "base64").toString("utf8"))
      : undefined;
  return tlsStatus(deployment, facts, now);
}

/**
 * The CA to trust when speaking to the replicas (undefined when they serve plain HTTP): the public copy
 * in the ConfigMap, so no Secret needs reading.
 */
export async function registryTrust(kube: Kube, namespace: string): Promise<string | undefined> {
  const [deployment, configMap] = await Promise.all([
    kube.get(named(Kinds.Deployment, names.deployment, namespace)),
    kube.get(named(Kinds.ConfigMap, names.caConfigMap, namespace)),
  ]);
  if (servedScheme(deployment) !== "HTTPS") return undefined;
  const ca = configMap?.data?.[names.secretKeys.caCertificate];
  return typeof ca === "string" && ca !== "" ? ca : undefined;
}
