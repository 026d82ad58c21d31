/**
 * The DaemonSet controller: one pod per eligible node, pinned with a matchFields node affinity (the
 * default scheduler binds it), with the tolerations the controller always adds (so its pods run on
 * cordoned and NotReady nodes, and a drain meets them); rolling updates replace pods of an old
 * template within maxUnavailable.
 */

import type { KubeObject, WatchEvent } from "../types.js";
import { scaledValue } from "./deployment-util.js";
import { isPodActive, isPodAvailable, isPodReady, ownedBy } from "./pods.js";
import { nodeMatchesPod, type Toleration, untoleratedTaintOf } from "./predicates.js";
import { podFromTemplate } from "./replicaset.js";
import {
  type ControllerContext,
  canonical,
  createWithGeneratedName,
  deleteQuietly,
  keyOf,
  patchStatus,
  splitKey,
  WorkQueue,
} from "./runtime.js";

const SOURCE = "daemonset-controller";
const HASH_LABEL = "controller-revision-hash";

const DAEMON_TOLERATIONS: Toleration[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
];

function revisionHash(ds: KubeObject): string {
  let hash = 0x811c9dc5;
  const text = canonical(ds.spec?.template ?? {});
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i) & 0xff;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0").slice(0, 8);
}

/** The pod the DaemonSet would run on `node` (used to decide eligibility, and to create it). */
function daemonPod(ds: KubeObject, name: string, nodeName: string, hash: string): KubeObject {
  const pod = podFromTemplate(ds, name, {
    labels: { [HASH_LABEL]: hash, "pod-template-generation": String(ds.metadata.generation ?? 1) },
  });
  const tolerations: Toleration[] = [...(pod.spec.tolerations ?? [])];
  for (const toleration of [
    ...DAEMON_TOLERATIONS,
    ...(pod.spec.hostNetwork
      ? [{ key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" }]
      : []),
  ]) {
    if (!tolerations.some((t) => t.key === toleration.key && t.effect === toleration.effect))
      tolerations.push(toleration);
  }
  pod.spec.tolerations = tolerations;
  // Pin to the node the way the controller does: a required matchFields term on metadata.name.
  const required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = (required?.nodeSelectorTerms ?? [{}]).map((term: Record<string, unknown>) => ({
    ...term,
    matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }],
  }));
  pod.spec.affinity = {
    ...pod.spec.affinity,
    nodeAffinity: {
      ...pod.spec.affinity?.nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms },
    },
  };
  return pod;
}

export function startDaemonSetController(ctx: ControllerContext): void {
  const { store, clock } = ctx;
  const queue = new WorkQueue(ctx, "daemonset", sync);

  function sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const ds = store.get("DaemonSet", namespace, name);
    if (ds === undefined || ds.metadata.deletionTimestamp) return;
    const hash = revisionHash(ds);
    const nodes = store.list("Node").filter((n) => !n.metadata.deletionTimestamp);
    const pods = store.list("Pod", { namespace }).filter((p) => ownedBy(p, ds));
    const now = clock.now();
    const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
    const byNode = new Map<string, KubeObject[]>();
    for (const pod of pods) {
      const nodeName = podNode(pod);
      if (!nodeName) continue;
      byNode.set(nodeName, [...(byNode.get(nodeName) ?? []), pod]);
    }
    const eligible = nodes.filter((node) => {
      const probe = daemonPod(ds, "probe", node.metadata.name, hash);
      return nodeMatchesPod(probe, node) && untoleratedTaintOf(probe, node) === undefined;
    });
    const eligibleNames = new Set(eligible.map((n) => n.metadata.name));

    // Failed daemon pods are deleted and replaced; pods on nodes that no longer qualify go.
    for (const pod of pods) {
      const nodeName = podNode(pod);
      const failed = pod.status?.phase === "Failed";
      if (!pod.metadata.deletionTimestamp && (failed || (nodeName && !eligibleNames.has(nodeName)))) {
        deleteQuietly(ctx, "Pod", namespace, pod.metadata.name);
        ctx.events.normal(ds, "SuccessfulDelete", `Deleted pod: ${pod.metadata.name}`, SOURCE);
      }
    }
    for (const node of eligible) {
      const running = (byNode.get(node.metadata.name) ?? []).filter((p) => isPodActive(p));
      if (
        running.length === 0 &&
        !(byNode.get(node.metadata.name) ?? []).some((p) => p.metadata.deletionTimestamp)
      ) {
        const pod = createWithGeneratedName(ctx, `${ds.metadata.name}-`, (podName) =>
          daemonPod(ds, podName, node.metadata.name, hash),
        );
        ctx.events.normal(ds, "SuccessfulCreate", `Created pod: ${pod.metadata.name}`, SOURCE);
      } else if (running.length > 1) {
        for (const extra of running.slice(1)) deleteQuietly(ctx, "Pod", namespace, extra.metadata.name);
      }
    }
    rollingUpdate(ds, hash, eligible, byNode, now, minReadySeconds);

    const current = store.list("Pod", { namespace }).filter((p) => ownedBy(p, ds) && isPodActive(p));
    const onEligible = current.filter((p) => eligibleNames.has(podNode(p) ?? ""));
    const available = onEligible.filter((p) => isPodAvailable(p, minReadySeconds, now)).length;
    patchStatus(ctx, "DaemonSet", namespace, name, (next) => {
      next.status = {
        ...next.status,
        currentNumberScheduled: new Set(onEligible.map(podNode)).size,
        numberMisscheduled: current.filter((p) => podNode(p) && !eligibleNames.has(podNode(p)!)).length,
        desiredNumberScheduled: eligible.length,
        numberReady: onEligible.filter(isPodReady).length,
        observedGeneration: ds.metadata.generation ?? 1,
        updatedNumberScheduled: onEligible.filter((p) => p.metadata.labels?.[HASH_LABEL] === hash).length,
        numberAvailable: available,
        numberUnavailable: Math.max(0, eligible.length - available),
      };
      for (const field of ["updatedNumberScheduled", "numberAvailable", "numberUnavailable"]) {
        if (next.status[field] === 0) delete next.status[field];
      }
    });
  }

  /** The node a daemon pod is for: where it is bound, or where its affinity pins it. */
  function podNode(pod: KubeObject): string | undefined {
    if (pod.spec?.nodeName) return pod.spec.nodeName;
    const terms =
      pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ??
      [];
    for (const term of terms) {
      const field = (term.matchFields ?? []).find((f: { key: string }) => f.key === "metadata.name");
      if (field?.values?.[0]) return field.values[0];
    }
    return undefined;
  }

  function rollingUpdate(
    ds: KubeObject,
    hash: string,
    eligible: KubeObject[],
    byNode: Map<string, KubeObject[]>,
    now: number,
    minReadySeconds: number,
  ): void {
    if ((ds.spec?.updateStrategy?.type ?? "RollingUpdate") !== "RollingUpdate") return;
    const maxUnavailable = Math.max(
      1,
      scaledValue(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, eligible.length, true, 1),
    );
    let unavailable = 0;
    const outdated: KubeObject[] = [];
    for (const node of eligible) {
      const pods = (byNode.get(node.metadata.name) ?? []).filter(isPodActive);
      const pod = pods[0];
      if (!pod || !isPodAvailable(pod, minReadySeconds, now)) unavailable++;
      if (pod && pod.metadata.labels?.[HASH_LABEL] !== hash) outdated.push(pod);
    }
    // Unavailable old pods go first (no loss), then available ones while the budget allows.
    outdated.sort(
      (a, b) =>
        Number(isPodAvailable(a, minReadySeconds, now)) - Number(isPodAvailable(b, minReadySeconds, now)),
    );
    for (const pod of outdated) {
      const wasAvailable = isPodAvailable(pod, minReadySeconds, now);
      if (wasAvailable && unavailable >= maxUnavailable) break;
      deleteQuietly(ctx, "Pod", pod.metadata.namespace, pod.metadata.name);
      ctx.events.normal(ds, "SuccessfulDelete", `Deleted pod: ${pod.metadata.name}`, SOURCE);
      if (wasAvailable) unavailable++;
    }
  }

  const onDaemonSet = (event: WatchEvent) => {
    if (event.type !== "DELETED") queue.add(keyOf(event.object));
  };
  const onPod = (event: WatchEvent) => {
    const owner = (event.object.metadata.ownerReferences ?? []).find(
      (o) => o.controller && o.kind === "DaemonSet",
    );
    if (owner) queue.add(`${event.object.metadata.namespace}/${owner.name}`);
  };
  const onNode = () => {
    for (const ds of store.list("DaemonSet")) queue.add(keyOf(ds));
  };
  ctx.cleanups.push(
    store.subscribe("DaemonSet", onDaemonSet),
    store.subscribe("Pod", onPod),
    store.subscribe("Node", onNode),
  );
  for (const ds of store.list("DaemonSet")) queue.add(keyOf(ds));
}
