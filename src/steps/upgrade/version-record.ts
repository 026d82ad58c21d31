/**
 * The registry version an upgrade left running, kept in the cluster (ConfigMap
 * registry-clouddrove-version) for `status` and `deploy` to read when no flag, environment variable or
 * config file names registry.version — so a successful `upgrade --registry-version 3.0.0` is not taken
 * for a wrong image, nor undone, by the next command. It outlives the upgrade's own record, which the
 * next upgrade replaces.
 */
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";

export const VERSION_CONFIGMAP = "registry-clouddrove-version";

export async function readRecordedVersion(kube: Kube, namespace: string): Promise<string | undefined> {
  const configMap = await kube.get(named(Kinds.ConfigMap, VERSION_CONFIGMAP, namespace));
  const version = configMap?.data?.registryVersion;
  return typeof version === "string" && version !== "" ? version : undefined;
}

export async function recordVersion(
  kube: Kube,
  namespace: string,
  version: string,
  by: string,
): Promise<void> {
  await kube.apply({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: VERSION_CONFIGMAP,
      namespace,
      // Without app.kubernetes.io/managed-by, like the upgrade's record: `deploy` never prunes it.
      labels: { "app.kubernetes.io/name": "registry", "app.kubernetes.io/component": "version" },
      annotations: {
        "clouddrove.io/description":
          "The registry version `clouddrove upgrade` left running; status and deploy use it when registry.version is not set.",
      },
    },
    data: { registryVersion: version, recordedBy: by, recordedAt: new Date().toISOString() },
  });
}
