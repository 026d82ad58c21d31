/**
 * Whether a Deployment has finished rolling out to `replicas`, as `kubectl rollout status` judges it:
 * its controller has seen the latest change, and every replica is updated, ready and available, with no
 * old replica left. A Deployment scaled to 0 reports no counts at all: absent counts are 0.
 */
import type { V1Deployment } from "@kubernetes/client-node";

export function isRolledOut(deployment: V1Deployment | undefined, replicas: number): boolean {
  if (!deployment) return false;
  const s = deployment.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) === replicas &&
    (s.readyReplicas ?? 0) === replicas &&
    (s.availableReplicas ?? 0) === replicas &&
    (s.replicas ?? 0) === replicas
  );
}
