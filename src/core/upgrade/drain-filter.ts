/**
 * Which pods a drain evicts, leaves, or cannot get past — kubectl's filters (k8s.io/kubectl pkg/drain
 * filters.go) as plain data: DaemonSet pods and mirror (static) pods stay (a DaemonSet's controller would
 * put the pod straight back; a mirror pod is the kubelet's own); finished pods go; a pod with emptyDir
 * blocks unless --delete-emptydir-data (its data dies with it); a pod no controller recreates blocks unless
 * --force (it would be gone for good). If any pod blocks, nothing is evicted.
 */
import type { V1Pod } from "@kubernetes/client-node";

export interface DrainOptions {
  /** kubectl --force: evict pods that no controller will recreate. */
  force: boolean;
  /** kubectl --delete-emptydir-data: evict pods whose emptyDir data is lost with them. */
  deleteEmptyDirData: boolean;
}

export type PodAction = "evict" | "skip" | "block";

export interface PodDisposition {
  namespace: string;
  name: string;
  uid: string;
  action: PodAction;
  /** Why, in the words kubectl uses. */
  reason: string;
  /** The controller that recreates the pod elsewhere (kind/name), if any. */
  controller?: string;
  /** Already being deleted: nothing to evict, only to wait for. */
  terminating: boolean;
  /** The flag that would let the drain past a blocking pod. */
  flag?: "--force" | "--delete-emptydir-data";
}

export interface DrainClassification {
  evict: PodDisposition[];
  skip: PodDisposition[];
  block: PodDisposition[];
}

export const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

export function controllerRef(pod: V1Pod): { kind: string; name: string } | undefined {
  return pod.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

export function isFinished(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

function hasEmptyDir(pod: V1Pod): boolean {
  return (pod.spec?.volumes ?? []).some((volume) => volume.emptyDir !== undefined);
}

export function classifyPod(pod: V1Pod, options: DrainOptions): PodDisposition {
  const controller = controllerRef(pod);
  const base = {
    namespace: pod.metadata?.namespace ?? "default",
    name: pod.metadata?.name ?? "",
    uid: pod.metadata?.uid ?? "",
    controller: controller ? `${controller.kind}/${controller.name}` : undefined,
    terminating: Boolean(pod.metadata?.deletionTimestamp),
  };
  if (pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) {
    return { ...base, action: "skip", reason: "mirror pod (static pod of the kubelet)" };
  }
  if (controller?.kind === "DaemonSet") {
    return { ...base, action: "skip", reason: `DaemonSet-managed (${controller.name})` };
  }
  if (isFinished(pod)) {
    return { ...base, action: "evict", reason: `finished (${pod.status?.phase})` };
  }
  if (hasEmptyDir(pod) && !options.deleteEmptyDirData) {
    return {
      ...base,
      action: "block",
      reason: "uses emptyDir: its local data is deleted with it",
      flag: "--delete-emptydir-data",
    };
  }
  if (!controller) {
    if (!options.force) {
      return {
        ...base,
        action: "block",
        reason:
          "not managed by a controller (ReplicationController, ReplicaSet, Job, DaemonSet or StatefulSet): evicted, it is gone for good",
        flag: "--force",
      };
    }
    return { ...base, action: "evict", reason: "unreplicated, evicted because of --force (not recreated)" };
  }
  const emptyDir = hasEmptyDir(pod) ? ", emptyDir data deleted (--delete-emptydir-data)" : "";
  return {
    ...base,
    action: "evict",
    reason: `${base.terminating ? "already terminating" : "managed"} by ${base.controller}${emptyDir}`,
  };
}

export function classifyPods(pods: V1Pod[], options: DrainOptions): DrainClassification {
  const result: DrainClassification = { evict: [], skip: [], block: [] };
  for (const pod of pods) {
    const disposition = classifyPod(pod, options);
    result[disposition.action].push(disposition);
  }
  return result;
}

/** kubectl's own words for a refused drain, one line per blocking pod and the flag that gets past it. */
export function blockingLines(blocked: PodDisposition[]): string[] {
  return blocked.map((p) => `${p.namespace}/${p.name}: ${p.reason} (${p.flag} to evict it anyway)`);
}
