/** The registry's TLS as `status` reports it: the live Deployment's scheme and the served certificate. */
import { createHash } from "node:crypto";
import type { V1Deployment } from "@kubernetes/client-node";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { names } from "../../core/render/names.js";
import { ACM_ANNOTATIONS } from "../../core/render/tls-modes.js";
import { readCertificate } from "../../core/tls/certificates.js";
import { servedTrust } from "../../core/tls/served-secret.js";
import { servedScheme, type TlsStatus, tlsStatus } from "../../core/tls/status.js";
import type { ServedTrust } from "../replica-endpoint.js";

export async function gatherTlsStatus(kube: Kube, namespace: string, now: Date): Promise<TlsStatus> {
  const [deployment, service] = await Promise.all([
    kube.get(named(Kinds.Deployment, names.deployment, namespace)),
    kube.get(named(Kinds.Service, names.service, namespace)),
  ]);
  const secretName = servedSecretOf(deployment) ?? names.tlsSecret;
  const secret = await kube.get(named(Kinds.Secret, secretName, namespace));
  const encoded = secret?.data?.[names.secretKeys.tlsCertificate];
  // Only the certificate is decoded; the key in the same Secret is never read here.
  const pem = typeof encoded === "string" ? Buffer.from(encoded, "base64").toString("utf8") : undefined;
  const rolled = deployment?.spec?.template?.metadata?.annotations?.[names.annotations.certificateChecksum];
  const status = tlsStatus(
    deployment,
    {
      certificate: pem ? await readCertificate(pem) : undefined,
      secretName,
      certificateChanged: pem !== undefined && rolled !== undefined && rolled !== sha256(pem),
      acmCertificateArn: service?.metadata?.annotations?.[ACM_ANNOTATIONS.certificate],
    },
    now,
  );
  if (status.mode !== "secret") return status;
  // tls.mode secret: whether deploy published the Secret's private issuer for clients to trust.
  const configMap = await kube.get(named(Kinds.ConfigMap, names.caConfigMap, namespace));
  return { ...status, privateCa: Boolean(configMap?.data?.[names.secretKeys.caCertificate]) };
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The Secret the live pods serve their certificate from (registry-clouddrove-tls, or tls.mode secret's). */
export function servedSecretOf(deployment: V1Deployment | undefined): string | undefined {
  const volumes = deployment?.spec?.template?.spec?.volumes ?? [];
  return volumes.find((v) => v.name === names.tlsVolume)?.secret?.secretName;
}

/**
 * What to trust when speaking to the replicas (undefined when they serve plain HTTP): the private CA's
 * public copy in the ConfigMap; with a Secret that is not clouddrove's (tls.mode secret), its issuer as
 * published in the same ConfigMap (or the system's CAs) and a name its certificate carries.
 */
export async function registryTrust(
  kube: Kube,
  namespace: string,
): Promise<string | ServedTrust | undefined> {
  const [deployment, configMap] = await Promise.all([
    kube.get(named(Kinds.Deployment, names.deployment, namespace)),
    kube.get(named(Kinds.ConfigMap, names.caConfigMap, namespace)),
  ]);
  if (servedScheme(deployment) !== "HTTPS") return undefined;
  const published = configMap?.data?.[names.secretKeys.caCertificate];
  const ca = typeof published === "string" && published !== "" ? published : undefined;
  const secretName = servedSecretOf(deployment);
  if (!secretName || secretName === names.tlsSecret) return ca;
  const secret = await kube.get(named(Kinds.Secret, secretName, namespace));
  // Only the certificate is decoded (for the name to check); the key in the same Secret is never read.
  const encoded = secret?.data?.[names.secretKeys.tlsCertificate];
  const certificate = typeof encoded === "string" ? Buffer.from(encoded, "base64").toString("utf8") : "";
  return servedTrust(certificate, ca);
}
