/**
 * The 3.x layout applied to a whole set of registry objects — live ones (what `upgrade` applies) or
 * rendered ones (what `deploy` renders when registry.version is 3.x, so that a deploy after an upgrade
 * renders exactly what the upgrade applied and rolls nothing). The ConfigMap's config.yml is migrated,
 * the Deployment moved to the v3 path with tracing off, and its checksum annotation recomputed from the
 * migrated text and the htpasswd line, as `deploy` computes it.
 */
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Secret } from "@kubernetes/client-node";
import { majorOf, withTag } from "../registry/image.js";
import { migrateDeployment, migrateRegistryConfig } from "../registry/v3.js";
import { names } from "./names.js";
import { configChecksum } from "./workload.js";

export interface V3Objects {
  configMap: V1ConfigMap;
  deployment: V1Deployment;
  removed: string[];
  changed: string[];
}

/** The htpasswd line as `deploy` hashes it (the Secret holds it with a trailing newline). */
export function htpasswdLineOf(secret: V1Secret | undefined): string | undefined {
  const encoded = secret?.data?.[names.secretKeys.htpasswd];
  if (typeof encoded !== "string") return undefined;
  return Buffer.from(encoded, "base64").toString("utf8").trim();
}

/**
 * The ConfigMap and Deployment at registry `version` (3.x: migrated layout; 2.x: image only). `htpasswd`
 * is the htpasswd line, for the checksum; without it the checksum annotation is left as it is.
 */
export async function registryObjectsAt(
  configMap: V1ConfigMap,
  deployment: V1Deployment,
  version: string,
  htpasswd: string | undefined,
): Promise<V3Objects> {
  const key = names.configMapKeys.registryConfig;
  const text = configMap.data?.[key];
  if (typeof text !== "string") {
    throw new TypeError(`ConfigMap ${configMap.metadata?.name} has no ${key}`);
  }
  const container = (deployment.spec?.template?.spec?.containers ?? []).find(
    (c) => c.name === names.container,
  );
  const image = withTag(container?.image ?? "registry", version);
  if ((majorOf(version) ?? 2) < 3) {
    const copy = structuredClone(deployment);
    const target = (copy.spec?.template?.spec?.containers ?? []).find((c) => c.name === names.container);
    if (target) target.image = image;
    return { configMap: structuredClone(configMap), deployment: copy, removed: [], changed: [] };
  }
  const migration = await migrateRegistryConfig(text);
  const newConfigMap = structuredClone(configMap);
  newConfigMap.data = { ...newConfigMap.data, [key]: migration.text };
  const newDeployment = migrateDeployment(deployment, {
    image,
    configMap: configMap.metadata?.name ?? names.configMap,
    checksum:
      htpasswd === undefined
        ? undefined
        : { annotation: names.annotations.configChecksum, value: configChecksum(migration.text, htpasswd) },
  });
  return {
    configMap: newConfigMap,
    deployment: newDeployment,
    removed: migration.removed,
    changed: migration.changed,
  };
}

/**
 * For the renderer: rendered objects (renderManifests) with the 3.x layout when `version` is 3.x. Returns
 * a new array; other objects are the same references.
 */
export async function withRegistryLayout<T extends KubernetesObject>(
  objects: T[],
  version: string,
): Promise<T[]> {
  if ((majorOf(version) ?? 2) < 3) return objects;
  const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === names.configMap);
  const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata?.name === names.deployment);
  const htpasswd = objects.find((o) => o.kind === "Secret" && o.metadata?.name === names.htpasswdSecret);
  if (!configMap || !deployment) return objects;
  const v3 = await registryObjectsAt(
    configMap as V1ConfigMap,
    deployment as V1Deployment,
    version,
    htpasswdLineOf(htpasswd as V1Secret | undefined),
  );
  return objects.map((o) =>
    o === configMap ? (v3.configMap as T) : o === deployment ? (v3.deployment as T) : o,
  );
}
