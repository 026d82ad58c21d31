/**
 * Reasoning about applied objects: what an apply did to each (created, configured, unchanged), which
 * live objects a render no longer contains (to prune — never the volume or its claim), and the view of an
 * object that a diff should compare (no server-owned bookkeeping).
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { names } from "../render/names.js";
import type { KubeObject } from "../render/types.js";

export type ApplyAction = "created" | "configured" | "unchanged" | "pruned";

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  namespace: o.metadata.namespace,
});

export const refKey = (r: ObjectRef): string => `${r.kind}/${r.namespace ?? ""}/${r.name}`;

/**
 * What an apply did, from the object before and after it. A server-side apply that changes nothing does
 * not bump resourceVersion; but controllers write status between our read and our apply (a PDB's
 * currentHealthy during a rollout), so a moved resourceVersion alone does not mean we changed something:
 * then the content without status and bookkeeping decides.
 */
export function classifyApply(before: KubeObject | undefined, after: KubeObject): ApplyAction {
  if (!before) return "created";
  const was = (before.metadata as { resourceVersion?: string }).resourceVersion;
  const now = (after.metadata as { resourceVersion?: string }).resourceVersion;
  if (was !== undefined && was === now) return "unchanged";
  return sameContent(before, after) ? "unchanged" : "configured";
}

/** Equal as a person compares them (see comparable), whatever the order of keys. */
export function sameContent(a: KubeObject, b: KubeObject): boolean {
  return canonical(comparable(a)) === canonical(comparable(b));
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([x], [y]) =>
      x < y ? -1 : x > y ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Kinds deploy may prune, listed in the namespace by the managed-by label. PersistentVolume and
 * PersistentVolumeClaim are deliberately absent: data outlives every command but an explicit delete.
 */
export const PRUNABLE_KINDS: ReadonlyArray<{ apiVersion: string; kind: string }> = [
  { apiVersion: "v1", kind: "ServiceAccount" },
  { apiVersion: "v1", kind: "ConfigMap" },
  { apiVersion: "v1", kind: "Secret" },
  { apiVersion: "v1", kind: "Service" },
  { apiVersion: "apps/v1", kind: "Deployment" },
  { apiVersion: "policy/v1", kind: "PodDisruptionBudget" },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" },
  { apiVersion: "batch/v1", kind: "CronJob" },
];

const NEVER_PRUNED = new Set(["PersistentVolume", "PersistentVolumeClaim", "Namespace"]);

/**
 * The private CA outlives a switch to --insecure-http and back: clients (and nodes) that trust it keep
 * trusting the registry, so its Secret and ConfigMap are never pruned.
 */
const isPrivateCa = (o: KubeObject) =>
  (o.kind === "Secret" && o.metadata.name === names.caSecret) ||
  (o.kind === "ConfigMap" && o.metadata.name === names.caConfigMap);

export function pruneCandidates(live: KubeObject[], rendered: KubeObject[]): KubeObject[] {
  const wanted = new Set(rendered.map((o) => refKey(refOf(o))));
  return live.filter(
    (o) =>
      !NEVER_PRUNED.has(o.kind) &&
      !isPrivateCa(o) &&
      o.metadata.labels?.["app.kubernetes.io/managed-by"] === "clouddrove" &&
      !wanted.has(refKey(refOf(o))),
  );
}

const SERVER_METADATA = [
  "managedFields",
  "resourceVersion",
  "uid",
  "generation",
  "creationTimestamp",
  "selfLink",
];

/** The object as a person compares it: no status, no server bookkeeping, no defaulted clusterIP(s). */
export function comparable(object: KubeObject): KubeObject {
  const copy = structuredClone(object) as KubeObject & { status?: unknown; spec?: Record<string, unknown> };
  delete copy.status;
  const metadata = copy.metadata as Record<string, unknown>;
  for (const key of SERVER_METADATA) delete metadata[key];
  const annotations = metadata.annotations as Record<string, string> | undefined;
  if (annotations) {
    delete annotations["kubectl.kubernetes.io/last-applied-configuration"];
    delete annotations["deployment.kubernetes.io/revision"];
    if (Object.keys(annotations).length === 0) delete metadata.annotations;
  }
  return copy;
}

/** The object as it is applied back: no status, no server bookkeeping, apiVersion and kind set. */
export function forApply<T extends KubernetesObject>(object: T, apiVersion: string, kind: string): T {
  const copy = comparable({ ...object, apiVersion, kind } as unknown as KubeObject) as unknown as T;
  // A pod template's `creationTimestamp: null` (as the server returns it) is bookkeeping too.
  const template = (copy as { spec?: { template?: { metadata?: { creationTimestamp?: unknown } } } }).spec
    ?.template?.metadata;
  if (template?.creationTimestamp === null) delete template.creationTimestamp;
  return copy;
}

/**
 * Other field managers of an object's spec and metadata (status writers such as controllers and kubelets
 * are not counted: they never own what clouddrove applies). Any of them owning a field clouddrove applies
 * with another value makes the apply a conflict.
 */
export function foreignManagers(object: KubeObject, own = "clouddrove"): string[] {
  const entries = (object.metadata as { managedFields?: Array<{ manager?: string; subresource?: string }> })
    .managedFields;
  const managers = (entries ?? [])
    .filter((entry) => entry.manager && entry.manager !== own && !entry.subresource)
    .map((entry) => entry.manager as string);
  return [...new Set(managers)];
}

/** "16 created, 1 configured": how many objects each action touched, in the order first seen. */
export function countActions(actions: string[]): string {
  const counts = new Map<string, number>();
  for (const action of actions) counts.set(action, (counts.get(action) ?? 0) + 1);
  return [...counts.entries()].map(([action, n]) => `${n} ${action}`).join(", ") || "nothing to do";
}
