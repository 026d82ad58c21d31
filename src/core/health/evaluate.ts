/**
 * Health of the registry and the nodes under it, from a snapshot: each problem one line that says what
 * is wrong and, where Kubernetes knows, why. Used by `status`, by `deploy`'s final check and by the
 * upgrade's health gates.
 */
import type { V1Endpoints, V1Job, V1Node, V1Pod } from "@kubernetes/client-node";
import { apiTime } from "../time-text.js";
import { hasReadyCondition, isPodReady } from "./pod-ready.js";
import type { ClusterSnapshot, HealthExpectations } from "./snapshot.js";

export interface NodeHealth {
  name: string;
  zone: string | null;
  ready: boolean;
  schedulable: boolean;
  kubeletVersion: string | null;
  pressure: string[];
}

export interface PodHealth {
  name: string;
  node: string | null;
  zone: string | null;
  phase: string;
  ready: boolean;
  restarts: number;
  reason: string | null;
}

export interface HealthReport {
  healthy: boolean;
  problems: string[];
  nodes: NodeHealth[];
  registry: {
    image: string | null;
    desired: number;
    updated: number;
    ready: number;
    available: number;
    rolledOut: boolean;
    pods: PodHealth[];
  };
  storage: {
    claim: string | null;
    claimPhase: string | null;
    volume: string | null;
    volumePhase: string | null;
  };
  service: { address: string | null; endpoints: number };
  networkPolicies: string[];
  disruptionBudget: { allowedDisruptions: number; currentHealthy: number; desiredHealthy: number } | null;
  backup: {
    lastJob: string | null;
    result: "succeeded" | "failed" | "running" | null;
    finishedAt: string | null;
  };
}

const ZONE = "topology.kubernetes.io/zone";
const PRESSURE = ["MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"];

/** What node, pod and Job conditions have in common. */
interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: Date;
}

const condition = (object: { status?: { conditions?: Condition[] } } | undefined, type: string) =>
  object?.status?.conditions?.find((c) => c.type === type);

export function nodeHealth(node: V1Node): NodeHealth {
  return {
    name: node.metadata?.name ?? "",
    zone: node.metadata?.labels?.[ZONE] ?? null,
    ready: hasReadyCondition(node),
    schedulable: node.spec?.unschedulable !== true,
    kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? null,
    pressure: PRESSURE.filter((type) => condition(node, type)?.status === "True"),
  };
}

/** Why a pod is not ready, in the words Kubernetes uses (scheduler message, waiting reason, ...). */
export function podReason(pod: V1Pod, events: Record<string, string> = {}): string | null {
  const name = pod.metadata?.name ?? "";
  if (pod.metadata?.deletionTimestamp) return "Terminating";
  const scheduled = condition(pod, "PodScheduled");
  if (scheduled?.status === "False") {
    return `Pending: ${scheduled.message ?? events[name] ?? scheduled.reason ?? "not scheduled"}`;
  }
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const status of statuses) {
    const waiting = status.state?.waiting;
    if (waiting?.reason && waiting.reason !== "PodInitializing") {
      return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`;
    }
  }
  if (pod.status?.phase && pod.status.phase !== "Running") return pod.status.phase;
  if (!hasReadyCondition(pod)) return events[name] ?? "not ready (readiness probe)";
  return null;
}

function podHealth(
  pod: V1Pod,
  zoneOf: Map<string, string | null>,
  events?: Record<string, string>,
): PodHealth {
  const node = pod.spec?.nodeName ?? null;
  const restarts = (pod.status?.containerStatuses ?? []).reduce((n, s) => n + (s.restartCount ?? 0), 0);
  return {
    name: pod.metadata?.name ?? "",
    node,
    zone: node ? (zoneOf.get(node) ?? null) : null,
    phase: pod.status?.phase ?? "Unknown",
    ready: isPodReady(pod),
    restarts,
    reason: podReason(pod, events),
  };
}

function lastBackup(jobs: V1Job[] = []): HealthReport["backup"] {
  const sorted = [...jobs].sort((a, b) =>
    String(a.metadata?.creationTimestamp ?? "").localeCompare(String(b.metadata?.creationTimestamp ?? "")),
  );
  const last = sorted.at(-1);
  if (!last) return { lastJob: null, result: null, finishedAt: null };
  const failed = condition(last, "Failed")?.status === "True";
  const complete = condition(last, "Complete")?.status === "True";
  return {
    lastJob: last.metadata?.name ?? null,
    result: failed ? "failed" : complete ? "succeeded" : "running",
    finishedAt: apiTime(
      last.status?.completionTime ?? condition(last, failed ? "Failed" : "Complete")?.lastTransitionTime,
    ),
  };
}

export function endpointCount(endpoints: V1Endpoints | undefined): number {
  return (endpoints?.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
}

/** A replica that refuses the pull Secret's credentials serves no client, whatever else it answers. */
function loginProblems(logins: ClusterSnapshot["replicaLogins"]): string[] {
  if (!logins) return [];
  if (logins.missing) return [`${logins.missing}: no client can log in`];
  return logins.replicas
    .filter((r) => r.status !== 200)
    .map((r) =>
      r.status === 401
        ? `${r.pod} refuses the pull Secret's credentials (user ${logins.username}) on /v2/: 401`
        : `${r.pod} answers /v2/ with the pull Secret's credentials ${r.status === null ? `with nothing (${r.error})` : `with ${r.status}`}`,
    );
}

export function evaluateHealth(snapshot: ClusterSnapshot, expect: HealthExpectations): HealthReport {
  const problems: string[] = [];
  const nodes = snapshot.nodes.map(nodeHealth);
  const zoneOf = new Map(nodes.map((n) => [n.name, n.zone]));

  for (const node of nodes) {
    if (!node.ready) problems.push(`node ${node.name} is not Ready`);
    if (!node.schedulable) problems.push(`node ${node.name} is cordoned (unschedulable)`);
    for (const p of node.pressure) problems.push(`node ${node.name} reports ${p}`);
    if (expect.kubeletVersion && !node.kubeletVersion?.startsWith(expect.kubeletVersion)) {
      problems.push(
        `node ${node.name} runs kubelet ${node.kubeletVersion ?? "unknown"}, expected ${expect.kubeletVersion}`,
      );
    }
  }

  const d = snapshot.deployment;
  const pods = snapshot.pods.map((p) => podHealth(p, zoneOf, snapshot.podEvents));
  const desired = d?.spec?.replicas ?? 0;
  const registry = {
    image: d?.spec?.template?.spec?.containers?.[0]?.image ?? null,
    desired,
    updated: d?.status?.updatedReplicas ?? 0,
    ready: d?.status?.readyReplicas ?? 0,
    available: d?.status?.availableReplicas ?? 0,
    rolledOut: false,
    pods,
  };
  if (!d) {
    problems.push(
      `Deployment ${snapshot.namespace}/registry-clouddrove does not exist (run clouddrove deploy)`,
    );
  } else {
    const observed = (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
    registry.rolledOut =
      observed &&
      registry.updated === desired &&
      registry.ready === desired &&
      registry.available === desired;
    if (desired !== expect.replicas)
      problems.push(`the Deployment wants ${desired} replicas, expected ${expect.replicas}`);
    if (expect.image && registry.image !== expect.image) {
      problems.push(`the Deployment runs ${registry.image}, expected ${expect.image}`);
    }
    if (!observed)
      problems.push("the Deployment's latest change has not been observed by its controller yet");
    const readyPods = pods.filter((p) => p.ready);
    if (readyPods.length < desired || !registry.rolledOut) {
      const notReady = pods.filter((p) => !p.ready).map((p) => `${p.name} ${p.reason ?? "not ready"}`);
      problems.push(
        `${readyPods.length}/${desired} replicas ready (updated ${registry.updated}, available ${registry.available})` +
          (notReady.length ? `: ${notReady.join("; ")}` : ""),
      );
    }
    const nodesUsed = new Set(readyPods.map((p) => p.node));
    const zonesUsed = new Set(readyPods.map((p) => p.zone));
    if (
      readyPods.length > 1 &&
      (nodesUsed.size < readyPods.length || zonesUsed.size < Math.min(readyPods.length, 3))
    ) {
      problems.push(
        `ready replicas share nodes or zones (${readyPods.length} replicas on ${nodesUsed.size} node(s) in ${zonesUsed.size} zone(s))`,
      );
    }
    for (const pod of pods) {
      if (pod.restarts > 0 && pod.reason?.startsWith("CrashLoopBackOff"))
        problems.push(`${pod.name} is crash-looping`);
    }
  }
  for (const pod of snapshot.troubledPods ?? []) {
    // A Job's failed pods are the Job's business: its outcome is reported (the last backup), and a
    // finished Job's pods stay around for their logs.
    if (pod.metadata?.ownerReferences?.some((o) => o.kind === "Job")) continue;
    const reason = podReason(pod, snapshot.podEvents);
    if (reason && !snapshot.pods.some((p) => p.metadata?.name === pod.metadata?.name)) {
      problems.push(`pod ${pod.metadata?.namespace}/${pod.metadata?.name} ${reason}`);
    }
  }

  const storage = {
    claim: snapshot.claim?.metadata?.name ?? null,
    claimPhase: snapshot.claim?.status?.phase ?? null,
    volume: snapshot.volume?.metadata?.name ?? null,
    volumePhase: snapshot.volume?.status?.phase ?? null,
  };
  problems.push(...loginProblems(snapshot.replicaLogins));
  if (!snapshot.claim) problems.push("the registry's PersistentVolumeClaim does not exist");
  else if (storage.claimPhase !== "Bound")
    problems.push(`claim ${storage.claim} is ${storage.claimPhase ?? "unknown"}, not Bound`);
  if (snapshot.volume && storage.volumePhase !== "Bound") {
    problems.push(`volume ${storage.volume} is ${storage.volumePhase ?? "unknown"}, not Bound`);
  }

  const ingress = snapshot.service?.status?.loadBalancer?.ingress?.[0];
  const service = {
    address: ingress?.hostname ?? ingress?.ip ?? null,
    endpoints: endpointCount(snapshot.endpoints),
  };
  if (!snapshot.service) problems.push("the registry Service does not exist");
  else if (expect.requireLoadBalancer && !service.address)
    problems.push("the load balancer has no address yet");
  if (d && service.endpoints !== desired) {
    problems.push(`the Service has ${service.endpoints} endpoint(s), expected ${desired}`);
  }

  const present = snapshot.networkPolicies.map((p) => p.metadata?.name ?? "");
  for (const name of expect.networkPolicies) {
    if (!present.includes(name)) problems.push(`NetworkPolicy ${name} is missing`);
  }

  const pdb = snapshot.disruptionBudget;
  const disruptionBudget = pdb
    ? {
        allowedDisruptions: pdb.status?.disruptionsAllowed ?? 0,
        currentHealthy: pdb.status?.currentHealthy ?? 0,
        desiredHealthy: pdb.status?.desiredHealthy ?? 0,
      }
    : null;
  if (!disruptionBudget) problems.push("the PodDisruptionBudget does not exist");
  else if (disruptionBudget.currentHealthy < disruptionBudget.desiredHealthy) {
    problems.push(
      `the PodDisruptionBudget has ${disruptionBudget.currentHealthy} healthy of ${disruptionBudget.desiredHealthy} required`,
    );
  }

  const backup = lastBackup(snapshot.backupJobs);
  if (backup.result === "failed") problems.push(`the last backup job ${backup.lastJob} failed`);

  return {
    healthy: problems.length === 0,
    problems,
    nodes,
    registry,
    storage,
    service,
    networkPolicies: present,
    disruptionBudget,
    backup,
  };
}
