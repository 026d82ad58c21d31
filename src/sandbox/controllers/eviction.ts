/**
 * Eviction for the sandbox's own drains (node group upgrades), with the API server's rules: pods not
 * running yet, finished or already terminating go without asking; a pod under two budgets cannot be
 * evicted (500); a budget not yet observed or with no disruptions left refuses (429); otherwise the
 * budget's disruptionsAllowed is decremented, the pod recorded in disruptedPods, and the pod deleted
 * gracefully. The same rules as the HTTP eviction subresource (src/sandbox/api/subresources.ts).
 */
import { ApiError, type KubeObject } from "../types.js";
import { podsOfBudget } from "./pdb.js";
import { isPodReady } from "./pods.js";
import { type ControllerContext, clone, deleteQuietly, timestamp } from "./runtime.js";

export type EvictionResult = "evicted" | "gone";

const BUDGET_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";

/** Throws ApiError 429 (budget) or 500 (two budgets); "gone" when the pod does not exist. */
export function evictPod(ctx: ControllerContext, namespace: string, name: string): EvictionResult {
  const pod = ctx.store.get("Pod", namespace, name);
  if (pod === undefined) return "gone";
  const evict = (): EvictionResult => {
    deleteQuietly(ctx, "Pod", namespace, name);
    return "evicted";
  };
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed" || phase === "Pending" || pod.metadata.deletionTimestamp)
    return evict();
  const budgets = ctx.store
    .list("PodDisruptionBudget", { namespace })
    .filter((pdb) => podsOfBudget(pdb, [pod]).length > 0);
  if (budgets.length > 1) {
    throw new ApiError(
      500,
      "InternalError",
      "Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
    );
  }
  const pdb: KubeObject | undefined = budgets[0];
  if (pdb === undefined) return evict();
  const status = pdb.status ?? {};
  if (!isPodReady(pod)) {
    const policy = pdb.spec?.unhealthyPodEvictionPolicy ?? "IfHealthyBudget";
    if (
      policy === "AlwaysAllow" ||
      ((status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) && (status.desiredHealthy ?? 0) > 0)
    ) {
      return evict();
    }
  }
  if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) {
    throw new ApiError(429, "TooManyRequests", BUDGET_MESSAGE, {
      causes: [
        {
          reason: "DisruptionBudget",
          message: `The disruption budget ${pdb.metadata.name} is still being processed by the server.`,
        },
      ],
    });
  }
  const allowed = status.disruptionsAllowed ?? 0;
  if (allowed <= 0) {
    throw new ApiError(429, "TooManyRequests", BUDGET_MESSAGE, {
      causes: [
        {
          reason: "DisruptionBudget",
          message: `The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`,
        },
      ],
    });
  }
  const updated = clone(pdb);
  updated.status = {
    ...updated.status,
    disruptionsAllowed: allowed - 1,
    disruptedPods: { ...(updated.status?.disruptedPods ?? {}), [name]: timestamp(ctx.clock.now()) },
  };
  ctx.store.updateStatus(updated);
  return evict();
}
