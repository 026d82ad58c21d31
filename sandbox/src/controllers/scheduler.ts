/**
 * The default scheduler: binds pending pods (highest priority, then oldest first) using the pure logic
 * in ../scheduling.ts. A pod that fits nowhere stays Pending with PodScheduled=False/Unschedulable and
 * a FailedScheduling event; it is tried again whenever the cluster changes in a way that could make it
 * fit (a node changes, a pod goes away or finishes, a claim or volume changes), and at least every
 * five minutes, as the real scheduler flushes its unschedulable queue.
 */
import { ClusterSnapshot } from "../scheduling.js";
import type { KubeObject, WatchEvent } from "../types.js";
import { isPodTerminal } from "./predicates.js";
import {
  type ControllerContext,
  clone,
  keyOf,
  patchObject,
  patchStatus,
  setCondition,
  WorkQueue,
} from "./runtime.js";
import { clusterInfo, kubernetesMinor } from "./seed.js";

const RETRY_UNSCHEDULABLE_MS = 5 * 60 * 1000;
const PASS = "pass";
const SCHEDULER = "default-scheduler";

function isPending(pod: KubeObject): boolean {
  return (
    !pod.spec?.nodeName &&
    !pod.metadata.deletionTimestamp &&
    !isPodTerminal(pod) &&
    (pod.spec?.schedulerName ?? SCHEDULER) === SCHEDULER &&
    (pod.spec?.schedulingGates ?? []).length === 0
  );
}

function byQueueOrder(a: KubeObject, b: KubeObject): number {
  const priority = (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0);
  if (priority !== 0) return priority;
  const time = (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "");
  return time !== 0 ? time : keyOf(a).localeCompare(keyOf(b));
}

export function startScheduler(ctx: ControllerContext): void {
  const { store, clock } = ctx;
  /** Last failure message per pod, so that a retry with the same outcome does not repeat the event at once. */
  const lastFailure = new Map<string, { message: string; at: number }>();
  const queue = new WorkQueue(ctx, "scheduler", pass);

  function pass(): void {
    const pods = store.list("Pod");
    const pending = pods.filter(isPending).sort(byQueueOrder);
    if (pending.length === 0) return;
    const claims = new Map(store.list("PersistentVolumeClaim").map((c) => [keyOf(c), c]));
    const snapshot = new ClusterSnapshot({
      nodes: store.list("Node"),
      pods,
      kubernetesMinor: kubernetesMinor(clusterInfo(store).kubernetesVersion),
      volumes: {
        claim: (namespace, name) => claims.get(`${namespace}/${name}`),
        volume: (name) => store.get("PersistentVolume", undefined, name),
        storageClass: (name) => store.get("StorageClass", undefined, name),
      },
    });
    let unschedulable = 0;
    for (const pod of pending) {
      const result = snapshot.schedule(pod);
      if (result.fit) {
        bind(pod, result.nodeName, result.claimsToProvision);
        snapshot.assume(pod, result.nodeName);
      } else {
        unschedulable++;
        markUnschedulable(pod, result.message);
      }
    }
    if (unschedulable > 0) queue.addAfter(PASS, RETRY_UNSCHEDULABLE_MS);
  }

  function bind(pod: KubeObject, nodeName: string, claimsToProvision: string[]): void {
    const namespace = pod.metadata.namespace;
    // WaitForFirstConsumer: the provisioner creates the volume in the zone of the node chosen here.
    for (const claimName of claimsToProvision) {
      patchObject(ctx, "PersistentVolumeClaim", namespace, claimName, (claim) => {
        claim.metadata.annotations = {
          ...claim.metadata.annotations,
          "volume.kubernetes.io/selected-node": nodeName,
        };
      });
    }
    const bound = patchObject(ctx, "Pod", namespace, pod.metadata.name, (p) => {
      p.spec.nodeName = nodeName;
    });
    if (bound === undefined) return;
    patchStatus(ctx, "Pod", namespace, pod.metadata.name, (p) => {
      p.status = { phase: "Pending", ...p.status };
      p.status.conditions = setCondition(
        p.status.conditions,
        { type: "PodScheduled", status: "True", lastProbeTime: null },
        clock.now(),
      );
    });
    lastFailure.delete(keyOf(pod));
    ctx.events.normal(
      bound,
      "Scheduled",
      `Successfully assigned ${namespace}/${pod.metadata.name} to ${nodeName}`,
      SCHEDULER,
    );
  }

  function markUnschedulable(pod: KubeObject, message: string): void {
    const key = keyOf(pod);
    const now = clock.now();
    const previous = lastFailure.get(key);
    const updated = patchStatus(ctx, "Pod", pod.metadata.namespace, pod.metadata.name, (p) => {
      p.status = clone({ phase: "Pending", ...p.status });
      p.status.conditions = setCondition(
        p.status.conditions,
        { type: "PodScheduled", status: "False", reason: "Unschedulable", message, lastProbeTime: null },
        now,
      );
    });
    // The real scheduler records the event on each attempt, which its back-off spaces out.
    if (updated && (previous?.message !== message || now - previous.at >= 60_000)) {
      ctx.events.warning(updated, "FailedScheduling", message, SCHEDULER);
      lastFailure.set(key, { message, at: now });
    }
  }

  const onPod = (event: WatchEvent) => {
    const pod = event.object;
    if (event.type === "DELETED") {
      lastFailure.delete(keyOf(pod));
      if (pod.spec?.nodeName) queue.add(PASS);
      return;
    }
    // New pending pods need a node; bound pods leaving (terminating, finished) may free one.
    if (
      isPending(pod) &&
      !(pod.status?.conditions ?? []).some((c: { type: string }) => c.type === "PodScheduled")
    ) {
      queue.add(PASS);
    } else if (event.type === "ADDED" && isPending(pod)) {
      queue.add(PASS);
    } else if (pod.spec?.nodeName && isPodTerminal(pod)) {
      queue.add(PASS);
    }
  };
  const cluster = () => queue.add(PASS);
  ctx.cleanups.push(
    store.subscribe("Pod", onPod),
    store.subscribe("Node", cluster),
    store.subscribe("PersistentVolumeClaim", cluster),
    store.subscribe("PersistentVolume", cluster),
  );
  queue.add(PASS);
}
