/**
 * Readiness as Kubernetes reports it. A pod being deleted keeps reporting Ready until its containers
 * stop, yet the endpoints controller has already taken it out of the Service: such a pod serves no new
 * client, so it does not count as a ready replica.
 */
import type { V1Node, V1Pod } from "@kubernetes/client-node";

/** The object's Ready condition is True (a node's, a pod's). */
export function hasReadyCondition(object: V1Node | V1Pod | undefined): boolean {
  return (object?.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** The pod is Ready and not terminating: a replica that serves. */
export function isPodReady(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && hasReadyCondition(pod);
}
