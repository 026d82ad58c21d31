/**
 * Renders every Kubernetes object of the registry from templates/registry/ and the resolved Config.
 * Values are set structurally on the parsed templates (never pasted into text), so the output is the
 * templates' objects with exactly the configured fields changed, in the templates' order, which is the
 * order `deploy` applies them in.
 */
import type { Config } from "../../config/schema.js";
import { applyBackupEgress, applyRegistryIngress, applyService } from "./exposure.js";
import { names } from "./names.js";
import { at, findObject } from "./paths.js";
import { renderRegistryConfig } from "./registry-config.js";
import { applySecrets, checkCredentials } from "./secrets.js";
import { applyStorage, checkStorage } from "./storage.js";
import { loadTemplateObjects } from "./templates.js";
import { applyTls, type ServerTls, servesTls } from "./tls.js";
import { applyAcm, type ServedSecret } from "./tls-modes.js";
import type { KubeObject, RegistryCredentials } from "./types.js";
import { applyDeployment, configChecksum } from "./workload.js";

export { names } from "./names.js";
export { renderRegistryConfig } from "./registry-config.js";
export { MASK, maskSecrets, toYamlStream } from "./stream.js";
export type { ServerTls } from "./tls.js";
export { servesTls, usesPrivateCa } from "./tls.js";
export type { ServedSecret } from "./tls-modes.js";
export type { KubeObject, RegistryCredentials } from "./types.js";

/** Cluster-scoped kinds among the registry objects: they get no namespace. */
const CLUSTER_SCOPED = new Set(["Namespace", "PersistentVolume"]);

/**
 * Every object `deploy` applies, in apply order: Namespace, ServiceAccount, ConfigMap, Secrets (the TLS
 * ones too, unless tls.mode is insecure-http), PersistentVolume, PersistentVolumeClaim, Deployment,
 * PodDisruptionBudget, Service, NetworkPolicies. `tls` is required with tls.mode private-ca; `served`
 * is the Secret the registry serves with tls.mode secret (undefined until cert-manager has issued it).
 */
export async function renderManifests(
  config: Config,
  credentials: RegistryCredentials,
  tls?: ServerTls,
  served?: ServedSecret,
): Promise<KubeObject[]> {
  checkStorage(config);
  checkCredentials(credentials);
  const objects = applyTls(await loadTemplateObjects(), config, tls, served);
  const ns = config.namespace;

  for (const object of objects) {
    object.metadata.labels = { ...object.metadata.labels, ...names.commonLabels };
    if (object.kind === "Namespace") object.metadata.name = ns;
    else if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = ns;
  }

  const registryConfig = await renderRegistryConfig(servesTls(config) ? "tls" : "http");
  at(findObject(objects, "ConfigMap", names.configMap), "data")[names.configMapKeys.registryConfig] =
    registryConfig;
  applySecrets(objects, ns, credentials);
  applyStorage(
    findObject(objects, "PersistentVolume", names.volume(names.namespaceDefault)),
    findObject(objects, "PersistentVolumeClaim", names.claim),
    config,
  );
  applyDeployment(
    findObject(objects, "Deployment", names.deployment),
    config,
    configChecksum(registryConfig, credentials.htpasswd.trim()),
  );
  applyService(findObject(objects, "Service", names.service), config);
  applyAcm(objects, config);
  applyRegistryIngress(findObject(objects, "NetworkPolicy", names.networkPolicies.registryIngress), config);
  applyBackupEgress(findObject(objects, "NetworkPolicy", names.networkPolicies.backupEgress), config);
  // Distribution 3 reads its config from another path and dropped keys: the same migration `upgrade`
  // applies, so a deploy at 3.x renders what the upgrade left (and never the 2.x layout again).
  if (!config.registry.version.startsWith("2.")) {
    const { withRegistryLayout } = await import("./at-version.js");
    return withRegistryLayout(objects, config.registry.version);
  }
  return objects;
}
