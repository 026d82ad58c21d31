/**
 * Eviction for the sandbox's own drains (node group upgrades): the same budget rules as the HTTP
 * pods/eviction subresource (../eviction.ts), then a graceful delete.
 */
import { admitEviction } from "../eviction.js";
import { type ControllerContext, deleteQuietly } from "./runtime.js";

export type EvictionResult = "evicted" | "gone";

/** Throws the API server's ApiError (429 budget, 500 two budgets, 403); "gone" when the pod does not exist. */
export function evictPod(ctx: ControllerContext, namespace: string, name: string): EvictionResult {
  const pod = ctx.store.get("Pod", namespace, name);
  if (pod === undefined) return "gone";
  admitEviction(ctx.store, pod, { now: ctx.clock.now() });
  deleteQuietly(ctx, "Pod", namespace, name);
  return "evicted";
}
