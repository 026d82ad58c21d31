/**
 * The ReplicaSet controller: keeps as many active pods as spec.replicas (creating them from the
 * template, owned by the ReplicaSet; deleting the least valuable first), and reports replicas,
 * fullyLabeledReplicas, readyReplicas and availableReplicas (ready for minReadySeconds).
 */
import { selectorMatches } from "../selectors.js";
import type { KubeObject, WatchEvent } from "../types.js";
import {
  compareForDeletion,
  isPodActive,
  isPodAvailable,
  isPodReady,
  ownedBy,
  untilAvailable,
} from "./pods.js";
import {
  type ControllerContext,
  clone,
  controllerOf,
  createWithGeneratedName,
  deleteQuietly,
  keyOf,
  ownerReference,
  patchStatus,
  splitKey,
  WorkQueue,
} from "./runtime.js";
import { clusterInfo, kubernetesMinor } from "./seed.js";

const SOURCE = "replicaset-controller";

/** A pod built from a template, owned by `owner` (ReplicaSets, DaemonSets and Jobs make pods this way). */
export function podFromTemplate(
  owner: KubeObject,
  name: string,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): KubeObject {
  const template = owner.spec?.template ?? {};
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: owner.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), ...extra.labels },
      annotations: { ...(template.metadata?.annotations ?? {}), ...extra.annotations },
      ownerReferences: [ownerReference(owner)],
    },
    spec: clone(template.spec ?? {}),
  };
}

export function startReplicaSetController(ctx: ControllerContext): void {
  const { store, clock } = ctx;
  const queue = new WorkQueue(ctx, "replicaset", sync);

  function sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const rs = store.get("ReplicaSet", namespace, name);
    if (rs === undefined || rs.metadata.deletionTimestamp) return;
    const owned = () => store.list("Pod", { namespace }).filter((pod) => ownedBy(pod, rs));
    const active = owned().filter(isPodActive);
    const desired = rs.spec?.replicas ?? 1;
    const diff = active.length - desired;
    if (diff < 0) {
      for (let i = 0; i < -diff; i++) {
        const pod = createWithGeneratedName(ctx, `${rs.metadata.name}-`, (podName) =>
          podFromTemplate(rs, podName),
        );
        ctx.events.normal(rs, "SuccessfulCreate", `Created pod: ${pod.metadata.name}`, SOURCE);
      }
    } else if (diff > 0) {
      const perNode = new Map<string, number>();
      for (const pod of active) {
        if (pod.spec?.nodeName) perNode.set(pod.spec.nodeName, (perNode.get(pod.spec.nodeName) ?? 0) + 1);
      }
      const onNode = (pod: KubeObject) => (pod.spec?.nodeName ? (perNode.get(pod.spec.nodeName) ?? 0) : 0);
      const victims = [...active].sort((a, b) => compareForDeletion(a, b, onNode)).slice(0, diff);
      for (const pod of victims) {
        deleteQuietly(ctx, "Pod", namespace, pod.metadata.name);
        ctx.events.normal(rs, "SuccessfulDelete", `Deleted pod: ${pod.metadata.name}`, SOURCE);
      }
    }
    updateStatus(rs, owned());
  }

  // Kubernetes 1.35 counts a ReplicaSet's terminating pods in its status (and the Deployment's), 0
  // included (DeploymentReplicaSetTerminatingReplicas, beta and on by default from 1.35).
  const countsTerminating = kubernetesMinor(clusterInfo(store).kubernetesVersion) >= 35;

  function updateStatus(rs: KubeObject, pods: KubeObject[]): void {
    const active = pods.filter(isPodActive);
    const terminating = pods.filter(
      (pod) => pod.metadata.deletionTimestamp && !["Succeeded", "Failed"].includes(pod.status?.phase),
    ).length;
    const now = clock.now();
    const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
    const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
    let soonest: number | undefined;
    for (const pod of active) {
      const wait = untilAvailable(pod, minReadySeconds, now);
      if (wait !== undefined && wait > 0) soonest = Math.min(soonest ?? wait, wait);
    }
    // Pods that are ready but not yet available become available without any event: look again then.
    if (soonest !== undefined) queue.addAfter(keyOf(rs), soonest);
    patchStatus(ctx, "ReplicaSet", rs.metadata.namespace, rs.metadata.name, (next) => {
      next.status = {
        ...next.status,
        replicas: active.length,
        fullyLabeledReplicas: active.filter((pod) =>
          selectorMatches({ matchLabels: templateLabels }, pod.metadata.labels),
        ).length,
        readyReplicas: active.filter(isPodReady).length,
        availableReplicas: active.filter((pod) => isPodAvailable(pod, minReadySeconds, now)).length,
        observedGeneration: rs.metadata.generation ?? 1,
        ...(countsTerminating ? { terminatingReplicas: terminating } : {}),
      };
    });
  }

  const onReplicaSet = (event: WatchEvent) => {
    if (event.type !== "DELETED") queue.add(keyOf(event.object));
  };
  const onPod = (event: WatchEvent) => {
    const owner = controllerOf(event.object);
    if (owner?.kind === "ReplicaSet") queue.add(`${event.object.metadata.namespace}/${owner.name}`);
  };
  ctx.cleanups.push(store.subscribe("ReplicaSet", onReplicaSet), store.subscribe("Pod", onPod));
  for (const rs of store.list("ReplicaSet")) queue.add(keyOf(rs));
}
