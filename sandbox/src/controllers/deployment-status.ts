/**
 * A Deployment's status as the controller computes it from its ReplicaSets (calculateStatus and
 * syncRolloutStatus): replica counts, the Available condition against maxUnavailable, and the
 * Progressing condition — NewReplicaSetCreated/ReplicaSetUpdated while it moves, NewReplicaSetAvailable
 * when done, ProgressDeadlineExceeded when it has not moved for progressDeadlineSeconds.
 */
import type { KubeObject } from "../types.js";
import {
  deploymentComplete,
  deploymentProgressing,
  maxUnavailable,
  progressDeadlineSeconds,
  replicasOf,
  sumSpec,
  sumStatus,
} from "./deployment-util.js";
import { type Condition, clone, parseTime, timestamp } from "./runtime.js";

export type Status = KubeObject["status"];

export function newCondition(
  type: string,
  status: string,
  reason: string,
  message: string,
  now: number,
): Condition {
  const at = timestamp(now);
  return { type, status, lastUpdateTime: at, lastTransitionTime: at, reason, message };
}

/** SetDeploymentCondition: same status and reason -> no change; same status keeps lastTransitionTime. */
export function setDeploymentCondition(status: Status, condition: Condition): void {
  const conditions: Condition[] = status.conditions ?? [];
  const current = conditions.find((c) => c.type === condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current && current.status === condition.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...conditions.filter((c) => c.type !== condition.type), next];
}

export function removeCondition(status: Status, type: string): void {
  status.conditions = (status.conditions ?? []).filter((c: Condition) => c.type !== type);
}

function progressing(status: Status): Condition | undefined {
  return (status.conditions ?? []).find((c: Condition) => c.type === "Progressing");
}

/** Counts and the Available condition; integer fields that are 0 are left out, as Go's omitempty does. */
export function calculateStatus(
  d: KubeObject,
  all: readonly KubeObject[],
  newRS: KubeObject | undefined,
  now: number,
): Status {
  const available = sumStatus(all, "availableReplicas");
  const status: Status = clone(d.status ?? {});
  Object.assign(status, {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: sumStatus(all, "replicas"),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sumStatus(all, "readyReplicas"),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sumSpec(all) - available),
  });
  // Summed from the ReplicaSets when they count terminating pods (1.35+), where 0 is shown too.
  const counted = all.filter((rs) => rs.status?.terminatingReplicas !== undefined);
  if (counted.length > 0) status.terminatingReplicas = sumStatus(counted, "terminatingReplicas");
  for (const field of [
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "unavailableReplicas",
  ]) {
    if (status[field] === 0) delete status[field];
  }
  setDeploymentCondition(
    status,
    available >= replicasOf(d) - maxUnavailable(d)
      ? newCondition(
          "Available",
          "True",
          "MinimumReplicasAvailable",
          "Deployment has minimum availability.",
          now,
        )
      : newCondition(
          "Available",
          "False",
          "MinimumReplicasUnavailable",
          "Deployment does not have minimum availability.",
          now,
        ),
  );
  return status;
}

function timedOut(status: Status, deadline: number, now: number): boolean {
  const condition = progressing(status);
  if (!condition || condition.reason === "NewReplicaSetAvailable") return false;
  if (condition.reason === "ProgressDeadlineExceeded") return true;
  return (parseTime(condition.lastUpdateTime) ?? now) + deadline * 1000 < now;
}

/**
 * The status after a rollout step, and when to look again if nothing else happens (a rollout that
 * stops moving must still time out).
 */
export function rolloutStatus(
  d: KubeObject,
  all: readonly KubeObject[],
  newRS: KubeObject | undefined,
  now: number,
): { status: Status; recheckAfter?: number } {
  const status = calculateStatus(d, all, newRS, now);
  const deadline = progressDeadlineSeconds(d);
  if (deadline === undefined) {
    removeCondition(status, "Progressing");
    return { status };
  }
  const current = progressing(status);
  const complete = status.replicas === status.updatedReplicas && current?.reason === "NewReplicaSetAvailable";
  const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
  if (!complete) {
    if (deploymentComplete(d, status)) {
      setDeploymentCondition(
        status,
        newCondition(
          "Progressing",
          "True",
          "NewReplicaSetAvailable",
          `${subject} has successfully progressed.`,
          now,
        ),
      );
    } else if (deploymentProgressing(d, status)) {
      const next = newCondition(
        "Progressing",
        "True",
        "ReplicaSetUpdated",
        `${subject} is progressing.`,
        now,
      );
      if (current?.status === "True") next.lastTransitionTime = current.lastTransitionTime;
      removeCondition(status, "Progressing");
      setDeploymentCondition(status, next);
    } else if (timedOut(status, deadline, now)) {
      setDeploymentCondition(
        status,
        newCondition(
          "Progressing",
          "False",
          "ProgressDeadlineExceeded",
          `${subject} has timed out progressing.`,
          now,
        ),
      );
    }
  }
  const condition = progressing(status);
  if (!condition || condition.reason === "ProgressDeadlineExceeded" || deploymentComplete(d, status))
    return { status };
  const from = parseTime(condition.lastUpdateTime) ?? now;
  return { status, recheckAfter: Math.max(0, from + deadline * 1000 - now) + 1000 };
}
