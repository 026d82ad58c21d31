/**
 * The API server's PodDisruptionBudget rules for one eviction (pkg/registry/core/pod/storage/eviction.go),
 * shared by the pods/eviction subresource and the sandbox's own drains (node group upgrades): terminal,
 * pending or terminating pods go without asking; a pod under two budgets cannot be evicted (500); an
 * unhealthy pod goes when its budget allows that; a budget not yet observed at its generation or with no
 * disruptions left refuses (429); a negative count is forbidden (403); otherwise the budget's
 * disruptionsAllowed is decremented and the pod recorded in disruptedPods. The caller deletes the pod.
 */
import { timestamp } from "./api/json.js";
import { selectorMatches } from "./selectors.js";
import { ApiError, type KubeObject, type ObjectStore } from "./types.js";

const BUDGET_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";
const TWO_BUDGETS =
  "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.";

function isReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some(
    (c: { type?: string; status?: string }) => c.type === "Ready" && c.status === "True",
  );
}

/** Terminal, pending or already terminating pods are evicted without looking at budgets. */
function canIgnoreBudget(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return (
    phase === "Succeeded" ||
    phase === "Failed" ||
    phase === "Pending" ||
    pod.metadata.deletionTimestamp !== undefined
  );
}

function budgetError(cause: string, retryAfterSeconds: number): ApiError {
  return new ApiError(429, "TooManyRequests", BUDGET_MESSAGE, {
    causes: [{ reason: "DisruptionBudget", message: cause }],
    retryAfterSeconds,
  });
}

/**
 * Returns when the pod may be deleted (having recorded the disruption in its budget, unless dryRun);
 * throws the ApiError the API server answers when it may not.
 */
export function admitEviction(
  store: ObjectStore,
  pod: KubeObject,
  options: { now: number; dryRun?: boolean },
): void {
  if (canIgnoreBudget(pod)) return;
  const budgets = store
    .list("PodDisruptionBudget", { namespace: pod.metadata.namespace })
    .filter(
      (pdb) =>
        pdb.spec?.selector !== undefined &&
        pdb.spec.selector !== null &&
        selectorMatches(pdb.spec.selector, pod.metadata.labels),
    );
  if (budgets.length > 1) {
    throw new ApiError(500, "InternalError", `Internal error occurred: ${TWO_BUDGETS}`, {
      causes: [{ message: TWO_BUDGETS }],
    });
  }
  const pdb = budgets[0];
  if (pdb === undefined) return;
  const status = pdb.status ?? {};
  if (!isReady(pod) && pdb.spec?.unhealthyPodEvictionPolicy === "AlwaysAllow") return;
  if (
    !isReady(pod) &&
    (status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) &&
    (status.desiredHealthy ?? 0) > 0
  ) {
    return;
  }
  if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) {
    throw budgetError(
      `The disruption budget ${pdb.metadata.name} is still being processed by the server.`,
      10,
    );
  }
  const allowed = status.disruptionsAllowed ?? 0;
  if (allowed < 0) {
    throw new ApiError(
      403,
      "Forbidden",
      `poddisruptionbudgets.policy "${pdb.metadata.name}" is forbidden: pdb disruptions allowed is negative`,
    );
  }
  if (allowed === 0) {
    throw budgetError(
      `The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`,
      0,
    );
  }
  if (options.dryRun) return;
  const updated = structuredClone(pdb) as KubeObject;
  updated.status = {
    ...updated.status,
    disruptionsAllowed: allowed - 1,
    disruptedPods: { ...(updated.status?.disruptedPods ?? {}), [pod.metadata.name]: timestamp(options.now) },
  };
  if (allowed - 1 === 0) {
    const condition = {
      type: "DisruptionAllowed",
      status: "False",
      reason: "InsufficientPods",
      message: "",
      observedGeneration: pdb.metadata.generation,
      lastTransitionTime: timestamp(options.now),
    };
    const others = (updated.status.conditions ?? []).filter(
      (c: { type?: string }) => c.type !== "DisruptionAllowed",
    );
    updated.status.conditions = [...others, condition];
  }
  store.updateStatus(updated);
}
