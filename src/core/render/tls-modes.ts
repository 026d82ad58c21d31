/**
 * The registry's objects in the TLS modes other than private-ca (docs/tls.md):
 * - secret: the registry serves TLS itself from a kubernetes.io/tls Secret that is not clouddrove's
 *   (the user's, or the one cert-manager writes for the Certificate rendered here);
 * - acm: the NLB terminates TLS with an ACM certificate (the Service's annotations) and the registry
 *   behind it speaks HTTP inside the pod network.
 */
import { createHash } from "node:crypto";
import type { Config } from "../../config/schema.js";
import { parseIssuerRef } from "../validators.js";
import { names } from "./names.js";
import { at, findObject, listAt, named } from "./paths.js";
import type { KubeObject } from "./types.js";

/** tls.mode secret: the Secret the registry serves, as deploy read it (never its key). */
export interface ServedSecret {
  secretName: string;
  /** tls.crt (PEM); its digest goes into the pod template, so a renewed certificate rolls the pods. */
  certificate: string;
  /**
   * ca.crt, when the Secret's issuer is not publicly trusted: published in ConfigMap
   * registry-clouddrove-ca for `clouddrove trust` and the node-trust DaemonSet.
   */
  privateCa?: string;
}

/** Stands in for the certificate's digest until cert-manager has issued it (a first deploy's render). */
export const NOT_YET_ISSUED = "not-yet-issued";

/** The Secret cert-manager writes the registry's certificate into (not labelled by clouddrove: never pruned). */
export const CERT_MANAGER_SECRET = "registry-clouddrove-cert-manager-tls";

/** The Secret the registry serves in tls.mode secret. */
export function servedSecretName(config: Pick<Config, "tls">): string {
  return config.tls.secretName || CERT_MANAGER_SECRET;
}

const certificateDigest = (pem: string) => createHash("sha256").update(pem).digest("hex");

/**
 * tls.mode secret: the pod mounts the served Secret instead of clouddrove's, the CA Secret and the
 * server certificate Secret are not rendered, and ConfigMap registry-clouddrove-ca carries the Secret's
 * own CA (empty when the certificate is publicly trusted: nothing to install then).
 */
export function applySecretTls(objects: KubeObject[], config: Config, served?: ServedSecret): KubeObject[] {
  const kept = objects.filter(
    (o) =>
      !(o.kind === "Secret" && (o.metadata.name === names.caSecret || o.metadata.name === names.tlsSecret)),
  );
  const deployment = findObject(kept, "Deployment", names.deployment);
  const podSpec = at(deployment, "spec", "template", "spec");
  at(named(listAt(podSpec, "volumes"), names.tlsVolume), "secret").secretName = servedSecretName(config);
  at(named(listAt(podSpec, "containers"), names.container), "livenessProbe", "httpGet").scheme = "HTTPS";
  setServedCertificate(kept, served);
  return kept;
}

/** The parts that depend on the served certificate: the pod template's digest and the published CA. */
export function setServedCertificate(objects: KubeObject[], served: ServedSecret | undefined): void {
  const deployment = findObject(objects, "Deployment", names.deployment);
  at(deployment, "spec", "template", "metadata", "annotations")[names.annotations.certificateChecksum] =
    served ? certificateDigest(served.certificate) : NOT_YET_ISSUED;
  at(findObject(objects, "ConfigMap", names.caConfigMap), "data")[names.secretKeys.caCertificate] =
    served?.privateCa ?? "";
}

const AWS = "service.beta.kubernetes.io";

/**
 * The Service annotations of the NLB's TLS listener. The in-tree AWS cloud provider and the AWS Load
 * Balancer Controller read the same three (sources in docs/tls.md): the certificate, the ports that
 * listen with TLS, and the protocol towards the pods ("tcp": the registry speaks HTTP behind it).
 */
export const ACM_ANNOTATIONS = {
  certificate: `${AWS}/aws-load-balancer-ssl-cert`,
  ports: `${AWS}/aws-load-balancer-ssl-ports`,
  backendProtocol: `${AWS}/aws-load-balancer-backend-protocol`,
} as const;

/**
 * Behind a load balancer that terminates TLS the registry sees plain HTTP and would write http:// into
 * the Location headers of uploads; relative ones make clients keep the https:// address they used
 * (distribution's http.relativeurls, set by its environment override).
 */
export const RELATIVE_URLS_ENV = "REGISTRY_HTTP_RELATIVEURLS";

/** tls.mode acm on the Service and the registry container; every other mode removes what acm added. */
export function applyAcm(objects: KubeObject[], config: Config): void {
  const service = findObject(objects, "Service", names.service);
  const annotations = { ...service.metadata.annotations };
  for (const key of Object.values(ACM_ANNOTATIONS)) delete annotations[key];
  const deployment = findObject(objects, "Deployment", names.deployment);
  const container = named(listAt(at(deployment, "spec", "template", "spec"), "containers"), names.container);
  const env = (Array.isArray(container.env) ? container.env : []).filter((e) => e.name !== RELATIVE_URLS_ENV);
  if (config.tls.mode === "acm" && config.tls.certificateArn) {
    annotations[ACM_ANNOTATIONS.certificate] = config.tls.certificateArn;
    annotations[ACM_ANNOTATIONS.ports] = String(names.ports.registry);
    annotations[ACM_ANNOTATIONS.backendProtocol] = "tcp";
    env.push({ name: RELATIVE_URLS_ENV, value: "true" });
  }
  service.metadata.annotations = annotations;
  if (env.length > 0) container.env = env;
}

/**
 * The cert-manager Certificate for the registry (tls.certManagerIssuer): the name clients use, a new
 * ECDSA key at each renewal; cert-manager writes the Secret the registry serves and renews it.
 */
export function certManagerCertificate(config: Config): KubeObject {
  const issuer = parseIssuerRef(config.tls.certManagerIssuer ?? "");
  if (!issuer || !config.tls.hostname) {
    throw new TypeError("certManagerCertificate needs tls.certManagerIssuer and tls.hostname");
  }
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: names.deployment, namespace: config.namespace, labels: { ...names.commonLabels } },
    spec: {
      secretName: CERT_MANAGER_SECRET,
      dnsNames: [config.tls.hostname],
      issuerRef: { group: "cert-manager.io", kind: issuer.kind, name: issuer.name },
      privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
      usages: ["server auth", "digital signature"],
    },
  };
}
