/**
 * The node lifecycle controller and pod garbage collector: taints that follow the node's state
 * (unschedulable when cordoned; not-ready NoSchedule/NoExecute when its Ready condition is not True),
 * pods on a NotReady node marked not ready, NoExecute taint eviction after each pod's
 * tolerationSeconds, and pods of deleted nodes force-deleted.
 */

import type { KubeObject, WatchEvent } from "../types.js";
import { isPodActive, podCondition } from "./pods.js";
import { type Taint, type Toleration, toleratesTaint } from "./predicates.js";
import {
  type ControllerContext,
  deleteQuietly,
  keyOf,
  parseTime,
  patchObject,
  patchStatus,
  setCondition,
  timestamp,
  WorkQueue,
} from "./runtime.js";

const UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
const NOT_READY = "node.kubernetes.io/not-ready";
const UNREACHABLE = "node.kubernetes.io/unreachable";

function readyStatus(node: KubeObject): string {
  return (
    (node.status?.conditions ?? []).find((c: { type: string }) => c.type === "Ready")?.status ?? "Unknown"
  );
}

/** The taints a node should carry for its state, keeping the others (and their timeAdded) as they are. */
export function taintsFor(node: KubeObject, now: number): Taint[] {
  const current: Taint[] = node.spec?.taints ?? [];
  const managed = new Set([UNSCHEDULABLE, NOT_READY, UNREACHABLE]);
  const wanted: Taint[] = [];
  if (node.spec?.unschedulable) wanted.push({ key: UNSCHEDULABLE, effect: "NoSchedule" });
  const ready = readyStatus(node);
  if (ready !== "True") {
    const key = ready === "False" ? NOT_READY : UNREACHABLE;
    wanted.push({ key, effect: "NoSchedule" }, { key, effect: "NoExecute" });
  }
  const kept = current.filter((t) => !managed.has(t.key));
  const withTime = wanted.map((t) => {
    const existing = current.find((c) => c.key === t.key && c.effect === t.effect);
    return existing ?? { ...t, timeAdded: timestamp(now) };
  });
  return [...kept, ...withTime];
}

export function startNodeLifecycle(ctx: ControllerContext): void {
  const { store, clock } = ctx;
  const evictions = new Map<string, { at: number; cancel: () => void }>();
  const queue = new WorkQueue(ctx, "node-lifecycle", sync);

  function sync(nodeName: string): void {
    const node = store.get("Node", undefined, nodeName);
    const pods = store.list("Pod", { fieldSelector: `spec.nodeName=${nodeName}` });
    if (node === undefined) {
      // PodGC: pods bound to a node that no longer exists are force-deleted.
      for (const pod of pods)
        deleteQuietly(ctx, "Pod", pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0 });
      return;
    }
    const now = clock.now();
    const taints = taintsFor(node, now);
    const current = node.spec?.taints ?? [];
    if (JSON.stringify(taints) !== JSON.stringify(current)) {
      patchObject(ctx, "Node", undefined, nodeName, (next) => {
        if (taints.length > 0) next.spec.taints = taints;
        else delete next.spec.taints;
      });
      return; // the update comes back as an event
    }
    if (readyStatus(node) !== "True") {
      for (const pod of pods) {
        if (!isPodActive(pod) || podCondition(pod, "Ready")?.status === "False") continue;
        patchStatus(ctx, "Pod", pod.metadata.namespace, pod.metadata.name, (next) => {
          next.status.conditions = setCondition(
            next.status.conditions,
            { type: "Ready", status: "False", lastProbeTime: null },
            now,
          );
        });
      }
    }
    for (const pod of pods)
      scheduleTaintEviction(
        pod,
        taints.filter((t) => t.effect === "NoExecute"),
        now,
      );
  }

  /** NoExecute taints evict pods that do not tolerate them, at once or after tolerationSeconds. */
  function scheduleTaintEviction(pod: KubeObject, noExecute: Taint[], now: number): void {
    const key = keyOf(pod);
    let due: number | undefined;
    if (!pod.metadata.deletionTimestamp) {
      for (const taint of noExecute) {
        const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
        if (!toleratesTaint(tolerations, taint)) {
          due = now;
          break;
        }
        const seconds = Math.min(
          ...tolerations
            .filter((t) => toleratesTaint([t], taint))
            .map((t) =>
              t.tolerationSeconds === undefined ? Number.POSITIVE_INFINITY : Math.max(0, t.tolerationSeconds),
            ),
        );
        if (Number.isFinite(seconds)) {
          const at = (parseTime(taint.timeAdded) ?? now) + seconds * 1000;
          due = Math.min(due ?? at, at);
        }
      }
    }
    const existing = evictions.get(key);
    if (existing && existing.at === due) return;
    existing?.cancel();
    evictions.delete(key);
    if (due === undefined) return;
    const evict = () => {
      evictions.delete(key);
      const latest = store.get("Pod", pod.metadata.namespace, pod.metadata.name);
      if (
        latest === undefined ||
        latest.metadata.uid !== pod.metadata.uid ||
        latest.metadata.deletionTimestamp
      )
        return;
      ctx.events.normal(
        latest,
        "TaintManagerEviction",
        `Marking for deletion Pod ${key}`,
        "taint-eviction-controller",
      );
      deleteQuietly(ctx, "Pod", latest.metadata.namespace, latest.metadata.name);
    };
    if (due <= now) {
      evict();
      return;
    }
    evictions.set(key, { at: due, cancel: clock.after(due - now, evict) });
  }

  const onNode = (event: WatchEvent) => queue.add(event.object.metadata.name);
  const onPod = (event: WatchEvent) => {
    if (event.type === "DELETED") {
      evictions.get(keyOf(event.object))?.cancel();
      evictions.delete(keyOf(event.object));
      return;
    }
    const nodeName = event.object.spec?.nodeName;
    if (!nodeName) return;
    const node = store.get("Node", undefined, nodeName);
    // Only nodes in trouble (or gone) need a look when their pods change.
    if (
      node === undefined ||
      readyStatus(node) !== "True" ||
      (node.spec?.taints ?? []).some((t: Taint) => t.effect === "NoExecute")
    ) {
      queue.add(nodeName);
    }
  };
  ctx.cleanups.push(store.subscribe("Node", onNode), store.subscribe("Pod", onPod), () => {
    for (const { cancel } of evictions.values()) cancel();
    evictions.clear();
  });
  for (const node of store.list("Node")) queue.add(node.metadata.name);
  // Pods of nodes deleted while nothing was running.
  const names = new Set(store.list("Node").map((n) => n.metadata.name));
  for (const pod of store.list("Pod"))
    if (pod.spec?.nodeName && !names.has(pod.spec.nodeName)) queue.add(pod.spec.nodeName);
}
