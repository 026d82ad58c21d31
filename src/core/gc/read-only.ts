/**
 * Switching the registry to read-only and back, as data: `storage.maintenance.readonly.enabled` in the
 * ConfigMap's config.yml (Distribution reads it at start only, so the pods must roll), and annotations
 * that say why it is read-only and what to restore.
 *
 * The pod template's checksum annotation (which `deploy` sets) is what rolls the pods: while read-only it
 * holds a value derived from the writable one, which is kept on the ConfigMap, and switching back puts
 * the writable value back, so the template is the one `deploy` rendered and the old ReplicaSet returns.
 * A `deploy` meanwhile renders readonly false, its own checksum and no read-only annotations, so a deploy
 * restores writes too.
 */
import { createHash } from "node:crypto";
import type { V1ConfigMap, V1Deployment } from "@kubernetes/client-node";
import { names } from "../render/names.js";

export const READ_ONLY_ANNOTATIONS = {
  /** Why the registry is read-only: "garbage-collection". */
  reason: "clouddrove.io/read-only",
  /** When it was switched. */
  since: "clouddrove.io/read-only-since",
  /** The pod template's checksum annotation while writable, put back by the switch back. */
  writableChecksum: "clouddrove.io/writable-config-sha256",
} as const;

export const GC_REASON = "garbage-collection";

const READ_ONLY_PATH = ["storage", "maintenance", "readonly", "enabled"];

/** config.yml with readonly set to `enabled`; comments and key order kept (YAML 1.1, as the registry reads it). */
export async function withReadOnly(text: string, enabled: boolean): Promise<string> {
  const { parseDocument } = await import("yaml");
  const doc = parseDocument(text, { version: "1.1" });
  if (doc.errors.length > 0) {
    throw new SyntaxError(`the registry config is not valid YAML: ${doc.errors[0]?.message}`);
  }
  doc.setIn(READ_ONLY_PATH, enabled);
  return doc.toString({ lineWidth: 0 });
}

/** Whether config.yml makes the registry read-only. */
export async function isReadOnly(text: string | undefined): Promise<boolean> {
  if (!text) return false;
  const { parse } = await import("yaml");
  try {
    const config = parse(text, { version: "1.1" }) as { storage?: { maintenance?: { readonly?: unknown } } };
    const readonly = config?.storage?.maintenance?.readonly as { enabled?: unknown } | undefined;
    return readonly?.enabled === true;
  } catch {
    return false;
  }
}

function checksumOf(deployment: V1Deployment): string | undefined {
  return deployment.spec?.template?.metadata?.annotations?.[names.annotations.configChecksum];
}

function setChecksum(deployment: V1Deployment, value: string): void {
  const template = deployment.spec?.template;
  if (!template) throw new TypeError(`Deployment ${deployment.metadata?.name} has no pod template`);
  template.metadata ??= {};
  template.metadata.annotations = {
    ...template.metadata.annotations,
    [names.annotations.configChecksum]: value,
  };
}

/** The read-only checksum: another value for another config, derived from the writable one. */
export function readOnlyChecksum(writable: string): string {
  return createHash("sha256").update(writable).update("\0read-only").digest("hex");
}

export interface RegistryPair {
  configMap: V1ConfigMap;
  deployment: V1Deployment;
}

function configText(configMap: V1ConfigMap): string {
  const text = configMap.data?.[names.configMapKeys.registryConfig];
  if (typeof text !== "string") {
    throw new TypeError(`ConfigMap ${configMap.metadata?.name} has no ${names.configMapKeys.registryConfig}`);
  }
  return text;
}

/** What the registry looks like read-only for garbage collection (copies; idempotent). */
export async function readOnlyPair(live: RegistryPair, now: Date): Promise<RegistryPair> {
  const configMap = structuredClone(live.configMap);
  const deployment = structuredClone(live.deployment);
  const annotations = configMap.metadata?.annotations ?? {};
  // A second switch (a re-run after an interruption) keeps the writable value saved by the first.
  const writable = annotations[READ_ONLY_ANNOTATIONS.writableChecksum] ?? checksumOf(live.deployment) ?? "";
  configMap.data = {
    ...configMap.data,
    [names.configMapKeys.registryConfig]: await withReadOnly(configText(live.configMap), true),
  };
  configMap.metadata = {
    ...configMap.metadata,
    annotations: {
      ...annotations,
      [READ_ONLY_ANNOTATIONS.reason]: GC_REASON,
      [READ_ONLY_ANNOTATIONS.since]: annotations[READ_ONLY_ANNOTATIONS.since] ?? now.toISOString(),
      [READ_ONLY_ANNOTATIONS.writableChecksum]: writable,
    },
  };
  setChecksum(deployment, readOnlyChecksum(writable));
  return { configMap, deployment };
}

/** The registry writable again: readonly off, the read-only annotations gone, the writable checksum back. */
export async function writablePair(live: RegistryPair): Promise<RegistryPair> {
  const configMap = structuredClone(live.configMap);
  const deployment = structuredClone(live.deployment);
  const annotations = { ...configMap.metadata?.annotations };
  const writable = annotations[READ_ONLY_ANNOTATIONS.writableChecksum];
  for (const key of Object.values(READ_ONLY_ANNOTATIONS)) delete annotations[key];
  configMap.data = {
    ...configMap.data,
    [names.configMapKeys.registryConfig]: await withReadOnly(configText(live.configMap), false),
  };
  configMap.metadata = { ...configMap.metadata, annotations };
  // Without the saved value (someone removed it), any other value rolls the pods as well.
  const current = checksumOf(live.deployment) ?? "";
  setChecksum(deployment, writable ?? readOnlyChecksum(`${current}\0writable`));
  return { configMap, deployment };
}

/** Why the registry is read-only, from the live ConfigMap: undefined while it is writable. */
export async function readOnlyState(
  configMap: V1ConfigMap | undefined,
): Promise<{ reason: string | undefined; since: string | undefined } | undefined> {
  if (!configMap || !(await isReadOnly(configMap.data?.[names.configMapKeys.registryConfig])))
    return undefined;
  const annotations = configMap.metadata?.annotations ?? {};
  return {
    reason: annotations[READ_ONLY_ANNOTATIONS.reason],
    since: annotations[READ_ONLY_ANNOTATIONS.since],
  };
}
