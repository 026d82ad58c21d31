/**
 * The disruption controller: a PodDisruptionBudget's expectedPods, desiredHealthy, currentHealthy and
 * disruptionsAllowed, computed as kube-controller-manager does (percentages against the owning
 * controllers' scale, rounded up; pods being deleted or just evicted do not count as healthy), and
 * the disruptedPods the eviction API records, dropped when the pod is gone or after two minutes.
 */
import { selectorMatches } from "../selectors.js";
import type { KubeObject, WatchEvent } from "../types.js";
import { scaledValue } from "./deployment-util.js";
import { isPodReady } from "./pods.js";
import {
  type ControllerContext,
  controllerOf,
  keyOf,
  parseTime,
  patchStatus,
  setCondition,
  splitKey,
  WorkQueue,
} from "./runtime.js";

const DELETION_TIMEOUT_MS = 2 * 60 * 1000;
const SOURCE = "controllermanager";

/** Pods a PDB selects: an empty selector selects every pod of the namespace, a missing one none. */
export function podsOfBudget(pdb: KubeObject, pods: readonly KubeObject[]): KubeObject[] {
  const selector = pdb.spec?.selector;
  if (selector === undefined || selector === null) return [];
  return pods.filter((pod) => selectorMatches(selector, pod.metadata.labels));
}

export function startDisruptionController(ctx: ControllerContext): void {
  const { store, clock } = ctx;
  const queue = new WorkQueue(ctx, "disruption", sync);

  /** The summed scale of the controllers owning `pods` (a Deployment's replicas for its ReplicaSets' pods). */
  function expectedScale(pods: KubeObject[]): { scale: number } | { error: string } {
    const seen = new Map<string, number>();
    for (const pod of pods) {
      const ref = controllerOf(pod);
      if (ref === undefined) return { error: `found no controller ref for pod "${pod.metadata.name}"` };
      if (seen.has(ref.uid)) continue;
      if (ref.kind !== "ReplicaSet") return { error: `found no controllers for pod "${pod.metadata.name}"` };
      const rs = store.get("ReplicaSet", pod.metadata.namespace, ref.name);
      if (rs === undefined || rs.metadata.uid !== ref.uid)
        return { error: `found no controllers for pod "${pod.metadata.name}"` };
      const deploymentRef = controllerOf(rs);
      if (deploymentRef?.kind === "Deployment") {
        if (seen.has(deploymentRef.uid)) continue;
        const deployment = store.get("Deployment", pod.metadata.namespace, deploymentRef.name);
        seen.set(deploymentRef.uid, deployment?.spec?.replicas ?? 1);
        seen.set(ref.uid, 0);
      } else {
        seen.set(ref.uid, rs.spec?.replicas ?? 1);
      }
    }
    return { scale: [...seen.values()].reduce((a, b) => a + b, 0) };
  }

  function sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const pdb = store.get("PodDisruptionBudget", namespace, name);
    if (pdb === undefined || pdb.metadata.deletionTimestamp) return;
    const now = clock.now();
    const pods = podsOfBudget(pdb, store.list("Pod", { namespace }));
    const byName = new Map(pods.map((pod) => [pod.metadata.name, pod]));

    const disrupted: Record<string, string> = {};
    let recheck: number | undefined;
    for (const [podName, when] of Object.entries(
      (pdb.status?.disruptedPods ?? {}) as Record<string, string>,
    )) {
      const pod = byName.get(podName);
      if (pod === undefined || pod.metadata.deletionTimestamp) continue;
      const expectedDeletion = (parseTime(when) ?? now) + DELETION_TIMEOUT_MS;
      if (expectedDeletion <= now) {
        ctx.events.warning(
          pod,
          "NotDeleted",
          `Pod was expected by PDB ${namespace}/${name} to be deleted but it wasn't`,
          SOURCE,
        );
        continue;
      }
      disrupted[podName] = when;
      recheck = Math.min(recheck ?? expectedDeletion, expectedDeletion);
    }
    if (recheck !== undefined) queue.addAfter(key, recheck - now);

    let expectedPods = 0;
    let desiredHealthy = 0;
    let failure: string | undefined;
    const { minAvailable, maxUnavailable } = pdb.spec ?? {};
    if (maxUnavailable !== undefined && maxUnavailable !== null) {
      const scale = expectedScale(pods);
      if ("error" in scale) failure = scale.error;
      else {
        expectedPods = scale.scale;
        desiredHealthy = Math.max(0, expectedPods - scaledValue(maxUnavailable, expectedPods, true, 0));
      }
    } else if (minAvailable !== undefined && minAvailable !== null) {
      if (typeof minAvailable === "number" || /^\d+$/.test(String(minAvailable))) {
        desiredHealthy = Number(minAvailable);
        expectedPods = pods.length;
      } else {
        const scale = expectedScale(pods);
        if ("error" in scale) failure = scale.error;
        else {
          expectedPods = scale.scale;
          desiredHealthy = scaledValue(minAvailable, expectedPods, true, 0);
        }
      }
    }
    const currentHealthy = pods.filter(
      (pod) => !pod.metadata.deletionTimestamp && !(pod.metadata.name in disrupted) && isPodReady(pod),
    ).length;
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    if (expectedPods <= 0 || disruptionsAllowed <= 0 || failure) disruptionsAllowed = 0;

    patchStatus(ctx, "PodDisruptionBudget", namespace, name, (next) => {
      const condition = failure
        ? {
            type: "DisruptionAllowed",
            status: "False",
            reason: "SyncFailed",
            message: failure,
            observedGeneration: pdb.metadata.generation ?? 1,
          }
        : {
            type: "DisruptionAllowed",
            status: disruptionsAllowed > 0 ? "True" : "False",
            reason: disruptionsAllowed > 0 ? "SufficientPods" : "InsufficientPods",
            message: "",
            observedGeneration: pdb.metadata.generation ?? 1,
          };
      const status: KubeObject["status"] = {
        observedGeneration: pdb.metadata.generation ?? 1,
        disruptionsAllowed,
        currentHealthy: failure ? 0 : currentHealthy,
        desiredHealthy: failure ? 0 : desiredHealthy,
        expectedPods: failure ? 0 : expectedPods,
        conditions: setCondition(next.status?.conditions, condition, now),
      };
      if (Object.keys(disrupted).length > 0) status.disruptedPods = disrupted;
      next.status = status;
    });
  }

  const enqueueNamespace = (namespace: string | undefined) => {
    for (const pdb of store.list("PodDisruptionBudget", { namespace })) queue.add(keyOf(pdb));
  };
  const onBudget = (event: WatchEvent) => {
    if (event.type !== "DELETED") queue.add(keyOf(event.object));
  };
  const onNamespaced = (event: WatchEvent) => enqueueNamespace(event.object.metadata.namespace);
  ctx.cleanups.push(
    store.subscribe("PodDisruptionBudget", onBudget),
    store.subscribe("Pod", onNamespaced),
    store.subscribe("Deployment", onNamespaced),
    store.subscribe("ReplicaSet", onNamespaced),
  );
  for (const pdb of store.list("PodDisruptionBudget")) queue.add(keyOf(pdb));
}
