/**
 * What happens to a cluster from outside Kubernetes: an EKS managed node group upgrade (replacement
 * node first, in the same zone, at the new kubelet version; the old node cordoned, drained through
 * eviction with a 15-minute limit, and terminated), a node going NotReady and back, and a probe that
 * starts or stops failing.
 */

import { sleep } from "../clock.js";
import { OperationError, UsageError } from "../errors.js";
import { ApiError, type KubeObject, type ObjectStore, type SandboxClock } from "../types.js";
import { createEventRecorder } from "./events.js";
import { evictPod } from "./eviction.js";
import { buildNode, kubeletVersionFor, minorOf, zoneOf } from "./nodes.js";
import { SandboxAnnotations } from "./pod-runs.js";
import {
  type ControllerContext,
  controllerOf,
  NameGenerator,
  patchObject,
  patchStatus,
  recordError,
  setCondition,
  timestamp,
} from "./runtime.js";
import { clusterInfo } from "./seed.js";

export interface SandboxContext {
  store: ObjectStore;
  clock: SandboxClock;
}

const NODE_BOOT_MS = 90_000;
const DRAIN_LIMIT_MS = 15 * 60 * 1000;
const EVICTION_RETRY_MS = 5_000;
const NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup";

/** The running controllers' context for a store, so operations share their event recorder and names. */
const contexts = new WeakMap<ObjectStore, ControllerContext>();

export function registerContext(ctx: ControllerContext): void {
  contexts.set(ctx.store, ctx);
}

export function unregisterContext(ctx: ControllerContext): void {
  if (contexts.get(ctx.store) === ctx) contexts.delete(ctx.store);
}

function contextFor(sandbox: SandboxContext): ControllerContext {
  const running = contexts.get(sandbox.store);
  if (running) return running;
  const ctx: ControllerContext = {
    store: sandbox.store,
    clock: sandbox.clock,
    names: new NameGenerator(Math.floor(sandbox.clock.now()) >>> 0),
    errors: [],
    cleanups: [],
    events: undefined as unknown as ControllerContext["events"],
  };
  ctx.events = createEventRecorder(sandbox.store, sandbox.clock, (error) =>
    recordError(ctx, "events", "", error),
  );
  return ctx;
}

function nodeOrThrow(store: ObjectStore, name: string): KubeObject {
  const node = store.get("Node", undefined, name);
  if (node === undefined) {
    const names = store.list("Node").map((n) => n.metadata.name);
    throw new UsageError(`There is no node "${name}" in the sandbox.`, {
      hint: `Use one of: ${names.join(", ") || "(no nodes)"} (kubectl get nodes).`,
    });
  }
  return node;
}

/** Flips the node's Ready condition (KubeletReady / KubeletNotReady) and its not-ready taints. */
export function setNodeReady(sandbox: SandboxContext, nodeName: string, ready: boolean): void {
  const ctx = contextFor(sandbox);
  nodeOrThrow(ctx.store, nodeName);
  const now = ctx.clock.now();
  const updated = patchStatus(ctx, "Node", undefined, nodeName, (node) => {
    node.status.conditions = setCondition(
      node.status.conditions,
      ready
        ? {
            type: "Ready",
            status: "True",
            reason: "KubeletReady",
            message: "kubelet is posting ready status",
            lastHeartbeatTime: timestamp(now),
          }
        : {
            type: "Ready",
            status: "False",
            reason: "KubeletNotReady",
            message:
              "container runtime is down, PLEG is not healthy: pleg was last seen active 3m0s ago; threshold is 3m0s",
            lastHeartbeatTime: timestamp(now),
          },
      now,
    );
  });
  patchObject(ctx, "Node", undefined, nodeName, (node) => {
    const others = (node.spec.taints ?? []).filter(
      (t: { key: string }) => t.key !== "node.kubernetes.io/not-ready",
    );
    const taints = ready
      ? others
      : [
          ...others,
          { key: "node.kubernetes.io/not-ready", effect: "NoSchedule", timeAdded: timestamp(now) },
          { key: "node.kubernetes.io/not-ready", effect: "NoExecute", timeAdded: timestamp(now) },
        ];
    if (taints.length > 0) node.spec.taints = taints;
    else delete node.spec.taints;
  });
  if (updated) {
    const reason = ready ? "NodeReady" : "NodeNotReady";
    ctx.events.normal(updated, reason, `Node ${nodeName} status is now: ${reason}`, {
      component: "kubelet",
      host: nodeName,
    });
  }
}

/** Makes a container's readiness or liveness probe fail (or succeed again) from its next period on. */
export function injectProbeFailure(
  sandbox: SandboxContext,
  namespace: string,
  podName: string,
  container: string,
  probe: "readiness" | "liveness",
  failing: boolean,
): void {
  const ctx = contextFor(sandbox);
  const pod = ctx.store.get("Pod", namespace, podName);
  if (pod === undefined) {
    throw new UsageError(`There is no pod "${podName}" in namespace "${namespace}" in the sandbox.`, {
      hint: `List the pods with: kubectl get pods -n ${namespace}`,
    });
  }
  const names = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
  if (!names.includes(container)) {
    throw new UsageError(`Pod "${podName}" has no container "${container}".`, {
      hint: `Its containers: ${names.join(", ")}.`,
    });
  }
  const annotation =
    probe === "readiness" ? SandboxAnnotations.failingReadiness : SandboxAnnotations.failingLiveness;
  patchObject(ctx, "Pod", namespace, podName, (next) => {
    const current = new Set(
      String(next.metadata.annotations?.[annotation] ?? "")
        .split(",")
        .filter((n) => n !== ""),
    );
    if (failing) current.add(container);
    else current.delete(container);
    const annotations = { ...next.metadata.annotations };
    if (current.size > 0) annotations[annotation] = [...current].sort().join(",");
    else delete annotations[annotation];
    next.metadata.annotations = annotations;
  });
}

function isDaemonPod(pod: KubeObject): boolean {
  return controllerOf(pod)?.kind === "DaemonSet";
}

function isMirrorPod(pod: KubeObject): boolean {
  return pod.metadata.annotations?.["kubernetes.io/config.mirror"] !== undefined;
}

/** Evicts everything but DaemonSet and mirror pods, retrying refused evictions, until the node is empty. */
async function drain(ctx: ControllerContext, nodeName: string, nodegroup: string): Promise<void> {
  const deadline = ctx.clock.now() + DRAIN_LIMIT_MS;
  let lastRefusal = "";
  for (;;) {
    const remaining = ctx.store
      .list("Pod", { fieldSelector: `spec.nodeName=${nodeName}` })
      .filter((pod) => !isDaemonPod(pod) && !isMirrorPod(pod));
    if (remaining.length === 0) return;
    for (const pod of remaining) {
      if (pod.metadata.deletionTimestamp) continue;
      try {
        evictPod(ctx, pod.metadata.namespace ?? "default", pod.metadata.name);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        lastRefusal = `${pod.metadata.namespace}/${pod.metadata.name}: ${error.message}`;
      }
    }
    if (ctx.clock.now() >= deadline) {
      throw new OperationError(
        `PodEvictionFailure: Reached max retries while trying to evict pods from nodes in node group ${nodegroup} (node ${nodeName}).`,
        {
          hint: "A PodDisruptionBudget allows no disruption (or pods never terminate). Check `kubectl get pdb -A`; the old node stays cordoned.",
          details: lastRefusal ? [`last refusal: ${lastRefusal}`] : [],
        },
      );
    }
    await sleep(ctx.clock, EVICTION_RETRY_MS);
  }
}

export interface NodeReplacement {
  oldNode: string;
  newNode: string;
}

/**
 * What a node group upgrade to `kubernetesVersion` would replace, checked as EKS checks an
 * UpdateNodegroupVersion request before it starts: a Kubernetes minor, within the skew policy of the
 * control plane, for a node group that exists. Throws UsageError / OperationError otherwise.
 */
export function checkNodegroupUpgrade(
  sandbox: SandboxContext,
  nodegroup: string,
  kubernetesVersion: string,
): { target: ReturnType<typeof kubeletVersionFor>; nodes: KubeObject[]; outdated: KubeObject[] } {
  const store = sandbox.store;
  let target: ReturnType<typeof kubeletVersionFor>;
  try {
    target = kubeletVersionFor(kubernetesVersion);
  } catch {
    throw new UsageError(`"${kubernetesVersion}" is not a Kubernetes version.`, {
      hint: 'Give a minor version such as "1.33".',
    });
  }
  const info = clusterInfo(store);
  const [cpMajor, cpMinor] = info.kubernetesVersion.split(".").map(Number) as [number, number];
  const [major, minor] = target.minor.split(".").map(Number) as [number, number];
  if (major !== cpMajor || minor > cpMinor || minor < cpMinor - 3) {
    throw new OperationError(
      `InvalidParameterException: Requested Nodegroup Kubernetes version ${target.minor} is not supported with a cluster at version ${info.kubernetesVersion}.`,
      {
        hint: `A kubelet may not be newer than the control plane nor more than 3 minors older: choose ${cpMinor - 3 >= 0 ? `1.${cpMinor - 3}` : "1.0"} to ${info.kubernetesVersion}, or upgrade the control plane first.`,
      },
    );
  }
  const nodes = store
    .list("Node", { labelSelector: `${NODEGROUP_LABEL}=${nodegroup}` })
    .filter((n) => !n.metadata.deletionTimestamp)
    .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""));
  if (nodes.length === 0) {
    const groups = [
      ...new Set(
        store
          .list("Node")
          .map((n) => n.metadata.labels?.[NODEGROUP_LABEL])
          .filter(Boolean),
      ),
    ];
    throw new UsageError(`There is no node group "${nodegroup}" in the sandbox.`, {
      hint: `Node groups: ${groups.join(", ") || "(none)"}.`,
    });
  }
  const outdated = nodes.filter((n) => minorOf(n.status?.nodeInfo?.kubeletVersion) !== target.minor);
  return { target, nodes, outdated };
}

/**
 * Upgrades a node group's nodes to `kubernetesVersion`, one node at a time, as an EKS managed node
 * group update does. Resolves with the first replacement (and all of them in `replaced`); rejects with
 * an OperationError when a drain exceeds the 15-minute limit (the new node stays, the old one stays
 * cordoned).
 */
export async function upgradeNodegroup(
  sandbox: SandboxContext,
  nodegroup: string,
  kubernetesVersion: string,
): Promise<NodeReplacement & { replaced: NodeReplacement[] }> {
  const ctx = contextFor(sandbox);
  const { target, nodes, outdated } = checkNodegroupUpgrade(ctx, nodegroup, kubernetesVersion);
  if (outdated.length === 0) {
    const name = nodes[0]!.metadata.name;
    return { oldNode: name, newNode: name, replaced: [] };
  }
  const info = clusterInfo(ctx.store);
  const replaced: NodeReplacement[] = [];
  for (const old of outdated) {
    const zone = zoneOf(old) ?? info.zones[0]!;
    const zoneIndex = Math.max(0, info.zones.indexOf(zone));
    const created = ctx.store.create(
      buildNode(ctx.store, ctx.names, {
        zone,
        zoneIndex,
        region: info.region,
        nodegroup,
        kubernetesVersion: target.minor,
        instanceType: old.metadata.labels?.["node.kubernetes.io/instance-type"],
        ready: false,
        now: ctx.clock.now(),
      }),
    );
    const newName = created.metadata.name;
    ctx.events.normal(
      created,
      "RegisteredNode",
      `Node ${newName} event: Registered Node ${newName} in Controller`,
      "node-controller",
    );
    await sleep(ctx.clock, NODE_BOOT_MS);
    setNodeReady(ctx, newName, true);
    // Cordon, as EKS does, and keep load balancers from sending new traffic to the node.
    patchObject(ctx, "Node", undefined, old.metadata.name, (node) => {
      node.spec.unschedulable = true;
      node.metadata.labels = {
        ...node.metadata.labels,
        "node.kubernetes.io/exclude-from-external-load-balancers": "true",
      };
    });
    ctx.events.normal(
      old,
      "NodeNotSchedulable",
      `Node ${old.metadata.name} status is now: NodeNotSchedulable`,
      {
        component: "kubelet",
        host: old.metadata.name,
      },
    );
    await drain(ctx, old.metadata.name, nodegroup);
    ctx.store.delete("Node", undefined, old.metadata.name);
    ctx.events.normal(
      old,
      "RemovingNode",
      `Node ${old.metadata.name} event: Removing Node ${old.metadata.name} from Controller`,
      "node-controller",
    );
    replaced.push({ oldNode: old.metadata.name, newNode: newName });
  }
  return { ...replaced[0]!, replaced };
}
