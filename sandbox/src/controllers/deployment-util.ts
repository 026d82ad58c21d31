/**
 * The Deployment controller's arithmetic, as kube-controller-manager's deployment/util does it: surge
 * and unavailability fenceposts (surge rounds up, unavailable rounds down, both 0 -> 1 unavailable),
 * the new ReplicaSet's next size, proportional scaling, revisions, template hashes.
 */
import type { KubeObject } from "../types.js";
import { canonical } from "./runtime.js";

export const Annotations = {
  revision: "deployment.kubernetes.io/revision",
  revisionHistory: "deployment.kubernetes.io/revision-history",
  desiredReplicas: "deployment.kubernetes.io/desired-replicas",
  maxReplicas: "deployment.kubernetes.io/max-replicas",
} as const;

export const TEMPLATE_HASH = "pod-template-hash";

/** Annotations of the Deployment that are not copied onto its ReplicaSets. */
const NOT_COPIED = new Set<string>([
  "kubectl.kubernetes.io/last-applied-configuration",
  Annotations.revision,
  Annotations.revisionHistory,
  Annotations.desiredReplicas,
  Annotations.maxReplicas,
  "deprecated.deployment.rollback.to",
]);

/** An IntOrString against a total: "25%" of 3 is 0.75, rounded up or down. */
export function scaledValue(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
  fallback: number | string,
): number {
  const v = value ?? fallback;
  if (typeof v === "number") return v;
  const match = /^(\d+)%$/.exec(v);
  if (!match) {
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  }
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function replicasOf(d: KubeObject): number {
  return d.spec?.replicas ?? 1;
}

export function isRollingUpdate(d: KubeObject): boolean {
  return (d.spec?.strategy?.type ?? "RollingUpdate") === "RollingUpdate";
}

/** [maxSurge, maxUnavailable] for the Deployment's replicas. */
export function resolveFenceposts(d: KubeObject): [number, number] {
  const rolling = d.spec?.strategy?.rollingUpdate ?? {};
  const desired = replicasOf(d);
  const surge = scaledValue(rolling.maxSurge, desired, true, "25%");
  let unavailable = scaledValue(rolling.maxUnavailable, desired, false, "25%");
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

export function maxSurge(d: KubeObject): number {
  return isRollingUpdate(d) ? resolveFenceposts(d)[0] : 0;
}

export function maxUnavailable(d: KubeObject): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  return Math.min(resolveFenceposts(d)[1], replicasOf(d));
}

export const specReplicas = (rs: KubeObject | undefined): number => rs?.spec?.replicas ?? 0;
export const sumSpec = (list: readonly KubeObject[]) => list.reduce((n, rs) => n + specReplicas(rs), 0);
export const sumStatus = (list: readonly KubeObject[], field: string) =>
  list.reduce((n, rs) => n + (rs.status?.[field] ?? 0), 0);

/** How big the new ReplicaSet may be now (deploymentutil.NewRSNewReplicas). */
export function newRSNewReplicas(
  d: KubeObject,
  allRSs: readonly KubeObject[],
  newRS: KubeObject | undefined,
): number {
  const desired = replicasOf(d);
  if (!isRollingUpdate(d)) return desired;
  const surge = resolveFenceposts(d)[0];
  const current = sumSpec(allRSs);
  const maxTotal = desired + surge;
  if (current >= maxTotal) return specReplicas(newRS);
  const scaleUp = Math.min(maxTotal - current, desired - specReplicas(newRS));
  return specReplicas(newRS) + scaleUp;
}

/** fnv-32a, as ComputeHash uses, then SafeEncodeString of its decimal form. */
export function templateHash(template: unknown, collisionCount?: number): string {
  const copy = JSON.parse(JSON.stringify(template ?? {}));
  if (copy?.metadata?.labels) delete copy.metadata.labels[TEMPLATE_HASH];
  const text = canonical(copy) + (collisionCount ? `#${collisionCount}` : "");
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i) & 0xff;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return [...String(hash)].map((c) => alphabet[c.charCodeAt(0) % alphabet.length]).join("");
}

/** Templates equal apart from the pod-template-hash label. */
export function equalIgnoreHash(a: unknown, b: unknown): boolean {
  const strip = (t: unknown) => {
    const copy = JSON.parse(JSON.stringify(t ?? {}));
    if (copy?.metadata?.labels) delete copy.metadata.labels[TEMPLATE_HASH];
    if (copy?.metadata?.labels && Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
    return canonical(copy);
  };
  return strip(a) === strip(b);
}

export function revisionOf(rs: KubeObject | undefined): number {
  return Number(rs?.metadata.annotations?.[Annotations.revision] ?? 0) || 0;
}

export function creationOrder(a: KubeObject, b: KubeObject): number {
  const time = (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "");
  return time !== 0 ? time : a.metadata.name.localeCompare(b.metadata.name);
}

/**
 * SetNewReplicaSetAnnotations: copy the Deployment's annotations, move the revision forward (keeping
 * the old one in revision-history when an old ReplicaSet is reused), set desired/max replicas.
 * Returns whether anything changed.
 */
export function setNewReplicaSetAnnotations(
  d: KubeObject,
  rs: KubeObject,
  newRevision: number,
  exists: boolean,
): boolean {
  const annotations: Record<string, string> = { ...(rs.metadata.annotations ?? {}) };
  const before = canonical(annotations);
  for (const [key, value] of Object.entries(d.metadata.annotations ?? {})) {
    if (!NOT_COPIED.has(key)) annotations[key] = value;
  }
  const old = annotations[Annotations.revision];
  const oldNumber = Number(old ?? 0) || 0;
  if (oldNumber < newRevision) {
    annotations[Annotations.revision] = String(newRevision);
    if (exists && old !== undefined) {
      const history = annotations[Annotations.revisionHistory];
      annotations[Annotations.revisionHistory] = history ? `${history},${old}` : old;
    }
  }
  if (!exists) {
    annotations[Annotations.desiredReplicas] = String(replicasOf(d));
    annotations[Annotations.maxReplicas] = String(replicasOf(d) + maxSurge(d));
  }
  rs.metadata.annotations = annotations;
  return canonical(annotations) !== before;
}

/** The size a ReplicaSet gets in a proportional scale (getReplicaSetFraction). */
export function replicaSetFraction(rs: KubeObject, d: KubeObject): number {
  if (replicasOf(d) === 0) return -specReplicas(rs);
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  const annotated = Number(rs.metadata.annotations?.[Annotations.maxReplicas]);
  const base = Number.isFinite(annotated) && annotated > 0 ? annotated : (d.status?.replicas ?? 0);
  if (base === 0) return 0;
  const newSize = (specReplicas(rs) * deploymentReplicas) / base;
  return Math.round(newSize) - specReplicas(rs);
}

export function proportion(rs: KubeObject, d: KubeObject, toAdd: number, added: number): number {
  if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

export function deploymentComplete(d: KubeObject, status: KubeObject["status"]): boolean {
  const desired = replicasOf(d);
  return (
    (status.updatedReplicas ?? 0) === desired &&
    (status.replicas ?? 0) === desired &&
    (status.availableReplicas ?? 0) === desired &&
    (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 1)
  );
}

/** Progress since the last status: more updated, fewer old, more ready or available. */
export function deploymentProgressing(d: KubeObject, status: KubeObject["status"]): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

export function progressDeadlineSeconds(d: KubeObject): number | undefined {
  const value = d.spec?.progressDeadlineSeconds ?? 600;
  return value >= 2 ** 31 - 1 ? undefined : value;
}

/**
 * Proportional scaling (the controller's `scale`) of a Deployment resized in the middle of a rollout:
 * each active ReplicaSet's new size, keyed by uid. With one active (or none), it simply takes the
 * Deployment's size; when the new one is saturated, the old ones go to zero.
 */
export function proportionalSizes(
  d: KubeObject,
  newRS: KubeObject | undefined,
  oldRSs: readonly KubeObject[],
): Map<string, number> {
  const sizes = new Map<string, number>();
  const uid = (rs: KubeObject) => rs.metadata.uid ?? rs.metadata.name;
  const desired = replicasOf(d);
  const newestFirst = [...oldRSs].sort((a, b) => creationOrder(b, a));
  const active = [...newestFirst, ...(newRS ? [newRS] : [])].filter((rs) => specReplicas(rs) > 0);
  const activeOrLatest =
    active.length === 1 ? active[0] : active.length === 0 ? (newRS ?? newestFirst[0]) : undefined;
  if (activeOrLatest) {
    sizes.set(uid(activeOrLatest), desired);
    return sizes;
  }
  const saturated =
    newRS !== undefined &&
    specReplicas(newRS) === desired &&
    Number(newRS.metadata.annotations?.[Annotations.desiredReplicas]) === desired &&
    (newRS.status?.availableReplicas ?? 0) === desired;
  if (saturated) {
    for (const rs of oldRSs) if (specReplicas(rs) > 0) sizes.set(uid(rs), 0);
    return sizes;
  }
  if (!isRollingUpdate(d)) return sizes;
  const allowed = desired > 0 ? desired + maxSurge(d) : 0;
  const toAdd = allowed - sumSpec(active);
  // Additions go to the largest, newest ReplicaSets first; removals to the largest, oldest.
  const ordered = [...active].sort((a, b) =>
    specReplicas(a) !== specReplicas(b)
      ? specReplicas(b) - specReplicas(a)
      : toAdd > 0
        ? creationOrder(b, a)
        : creationOrder(a, b),
  );
  let added = 0;
  for (const rs of ordered) {
    const share = toAdd !== 0 ? proportion(rs, d, toAdd, added) : 0;
    sizes.set(uid(rs), specReplicas(rs) + share);
    added += share;
  }
  if (toAdd !== 0 && ordered[0]) {
    const first = uid(ordered[0]);
    sizes.set(first, Math.max(0, (sizes.get(first) ?? 0) + toAdd - added));
  }
  return sizes;
}
