/** Pod predicates the controllers share, with the meanings kube-controller-manager gives them. */

import type { KubeObject } from "../types.js";
import { isPodTerminal } from "./predicates.js";
import { type Condition, parseTime } from "./runtime.js";

export function podCondition(pod: KubeObject, type: string): Condition | undefined {
  return (pod.status?.conditions ?? []).find((c: Condition) => c.type === type);
}

export function isPodReady(pod: KubeObject): boolean {
  return podCondition(pod, "Ready")?.status === "True";
}

/** Neither finished nor being deleted: what a ReplicaSet counts towards its replicas. */
export function isPodActive(pod: KubeObject): boolean {
  return !pod.metadata.deletionTimestamp && !isPodTerminal(pod);
}

/** Ready for at least minReadySeconds. */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = parseTime(podCondition(pod, "Ready")?.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

/** Milliseconds until a ready pod becomes available (0 when it already is, undefined when not ready). */
export function untilAvailable(pod: KubeObject, minReadySeconds: number, now: number): number | undefined {
  if (!isPodReady(pod)) return undefined;
  const since = parseTime(podCondition(pod, "Ready")?.lastTransitionTime) ?? now;
  return Math.max(0, since + minReadySeconds * 1000 - now);
}

export function restartCount(pod: KubeObject): number {
  return (pod.status?.containerStatuses ?? []).reduce(
    (sum: number, c: { restartCount?: number }) => sum + (c.restartCount ?? 0),
    0,
  );
}

export function ownedBy(object: KubeObject, owner: KubeObject): boolean {
  return (object.metadata.ownerReferences ?? []).some(
    (o) => o.controller === true && o.uid === owner.metadata.uid,
  );
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * The order in which a ReplicaSet gives up pods when scaling down (controller.ActivePodsWithRanks):
 * unscheduled before scheduled, pending before running, not ready before ready, lower deletion cost,
 * pods doubled up on a node, ready for less time, more restarts, newer. Negative: `a` goes first.
 */
export function compareForDeletion(
  a: KubeObject,
  b: KubeObject,
  podsOnNode: (pod: KubeObject) => number,
): number {
  const assigned = (p: KubeObject) => (p.spec?.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const phase = (p: KubeObject) => PHASE_RANK[p.status?.phase ?? "Pending"] ?? 0;
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  const ready = (p: KubeObject) => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  const cost = (p: KubeObject) =>
    Number(p.metadata.annotations?.["controller.kubernetes.io/pod-deletion-cost"] ?? 0) || 0;
  if (cost(a) !== cost(b)) return cost(a) - cost(b);
  if (podsOnNode(a) !== podsOnNode(b)) return podsOnNode(b) - podsOnNode(a);
  if (isPodReady(a) && isPodReady(b)) {
    const since = (p: KubeObject) => parseTime(podCondition(p, "Ready")?.lastTransitionTime) ?? 0;
    if (since(a) !== since(b)) return since(b) - since(a);
  }
  if (restartCount(a) !== restartCount(b)) return restartCount(b) - restartCount(a);
  const created = (p: KubeObject) => parseTime(p.metadata.creationTimestamp) ?? 0;
  return created(b) - created(a);
}
