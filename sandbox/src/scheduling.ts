/**
 * The scheduler's decision, as pure logic over plain objects: which nodes a pod fits (the default
 * scheduler's filter plugins, in their order, with their reasons), which of those is best, and the
 * FailedScheduling message in the real format when none fits. The controller in
 * controllers/scheduler.ts feeds it the store's objects and writes the result back.
 */
import {
  type AffinityTerm,
  isPodTerminal,
  nodeMatchesPod,
  nodeSelectorTermMatches,
  parseQuantity,
  podRequests,
  requiredTerms,
  type Taint,
  termMatchesPod,
  toleratesTaint,
  untoleratedTaintOf,
} from "./controllers/predicates.js";
import { selectorMatches } from "./selectors.js";
import type { KubeObject } from "./types.js";

// The shared predicates are part of this module's interface.
export {
  isNodeReady,
  isPodTerminal,
  nodeMatchesPod,
  parseQuantity,
  podRequests,
  type Taint,
  type Toleration,
  toleratesTaint,
  untoleratedTaintOf,
} from "./controllers/predicates.js";

// Reasons exactly as the scheduler's plugins word them (kube-scheduler 1.33).
export const Reasons = {
  unschedulable: "node(s) were unschedulable",
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  ports: "node(s) didn't have free ports for the requested pod ports",
  tooManyPods: "Too many pods",
  volumeNodeAffinity: "node(s) had volume node affinity conflict",
  spread: "node(s) didn't match pod topology spread constraints",
  spreadMissingLabel: "node(s) didn't match pod topology spread constraints (missing required label)",
  podAffinity: "node(s) didn't match pod affinity rules",
  podAntiAffinity: "node(s) didn't match pod anti-affinity rules",
  existingAntiAffinity: "node(s) didn't satisfy existing pods anti-affinity rules",
  unboundImmediateClaims: "pod has unbound immediate PersistentVolumeClaims",
} as const;

export function insufficient(resource: string): string {
  return `Insufficient ${resource}`;
}

export function untoleratedTaint(taint: Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`;
}

export interface VolumeLookup {
  claim(namespace: string, name: string): KubeObject | undefined;
  volume(name: string): KubeObject | undefined;
  storageClass(name: string): KubeObject | undefined;
}

export interface ClusterInput {
  nodes: readonly KubeObject[];
  /** Every pod; the snapshot keeps those bound to a node and not finished. */
  pods: readonly KubeObject[];
  volumes?: VolumeLookup;
  /** The cluster's Kubernetes minor (default 33): the scheduler's messages changed across versions. */
  kubernetesMinor?: number;
}

export type ScheduleResult =
  | {
      fit: true;
      nodeName: string /** claims waiting for a first consumer, to provision in the node's zone */;
      claimsToProvision: string[];
    }
  | {
      fit: false;
      message: string /** per reason, how many nodes gave it */;
      reasons: Record<string, number>;
    };

type Code = "Unschedulable" | "UnschedulableAndUnresolvable";
interface FilterFailure {
  code: Code;
  reasons: string[];
}

interface NodeState {
  node: KubeObject;
  name: string;
  labels: Record<string, string>;
  allocatable: Record<string, number>;
  requested: Record<string, number>;
  pods: KubeObject[];
  hostPorts: Set<string>;
}

const ZONE = "topology.kubernetes.io/zone";

/** The key used to spread replicas of one controller (or, for bare pods, one label set) apart. */
function spreadGroup(pod: KubeObject): string {
  const owner = (pod.metadata.ownerReferences ?? []).find((o) => o.controller);
  if (owner) return `owner:${owner.uid}`;
  const labels = Object.entries(pod.metadata.labels ?? {}).sort();
  return `labels:${pod.metadata.namespace}:${JSON.stringify(labels)}`;
}

function hostPortsOf(pod: KubeObject): string[] {
  const ports: string[] = [];
  for (const container of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    for (const port of container.ports ?? []) {
      if (port.hostPort) ports.push(`${port.protocol ?? "TCP"}/${port.hostIP ?? "0.0.0.0"}/${port.hostPort}`);
    }
  }
  return ports;
}

/**
 * The cluster as the scheduler sees it during one pass. `schedule` decides for one pod; `assume`
 * records a binding so that the next pod in the same pass sees it (as the scheduler cache does).
 */
export class ClusterSnapshot {
  private readonly nodes: NodeState[];
  private readonly byName = new Map<string, NodeState>();
  private readonly assigned: KubeObject[] = [];
  private readonly withAntiAffinity: KubeObject[] = [];
  private readonly groupOnNode = new Map<string, number>();
  private readonly groupInZone = new Map<string, number>();
  private readonly volumes?: VolumeLookup;
  private readonly kubernetesMinor: number;

  constructor(input: ClusterInput) {
    this.volumes = input.volumes;
    this.kubernetesMinor = input.kubernetesMinor ?? 33;
    this.nodes = input.nodes
      .filter((node) => node.metadata.deletionTimestamp === undefined)
      .map((node) => {
        const allocatable: Record<string, number> = {};
        for (const [name, value] of Object.entries(node.status?.allocatable ?? {})) {
          allocatable[name] = parseQuantity(value as string);
        }
        return {
          node,
          name: node.metadata.name,
          labels: node.metadata.labels ?? {},
          allocatable,
          requested: {},
          pods: [],
          hostPorts: new Set<string>(),
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const state of this.nodes) this.byName.set(state.name, state);
    for (const pod of input.pods) {
      const nodeName = pod.spec?.nodeName;
      if (nodeName && !isPodTerminal(pod)) this.assume(pod, nodeName);
    }
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** Records `pod` as running on `nodeName`. */
  assume(pod: KubeObject, nodeName: string): void {
    const state = this.byName.get(nodeName);
    if (state === undefined) return; // bound to a node that is gone: it holds nothing
    const bound = pod.spec?.nodeName === nodeName ? pod : { ...pod, spec: { ...pod.spec, nodeName } };
    state.pods.push(bound);
    this.assigned.push(bound);
    for (const [name, value] of Object.entries(podRequests(bound))) {
      state.requested[name] = (state.requested[name] ?? 0) + value;
    }
    for (const port of hostPortsOf(bound)) state.hostPorts.add(port);
    if (requiredTerms(bound, "podAntiAffinity").length > 0) this.withAntiAffinity.push(bound);
    const group = spreadGroup(bound);
    const onNode = `${group}|${nodeName}`;
    this.groupOnNode.set(onNode, (this.groupOnNode.get(onNode) ?? 0) + 1);
    const inZone = `${group}|${state.labels[ZONE] ?? ""}`;
    this.groupInZone.set(inZone, (this.groupInZone.get(inZone) ?? 0) + 1);
  }

  schedule(pod: KubeObject): ScheduleResult {
    const total = this.nodes.length;
    if (total === 0) {
      return { fit: false, message: "no nodes available to schedule pods", reasons: {} };
    }
    const volumes = this.checkClaims(pod);
    if ("failure" in volumes) return this.prefilterFailure(volumes.failure, total);

    const checks = this.prepare(pod);
    const feasible: NodeState[] = [];
    const failures = new Map<string, FilterFailure>();
    for (const state of this.nodes) {
      const failure = this.filter(pod, state, checks, volumes.bound);
      if (failure) failures.set(state.name, failure);
      else feasible.push(state);
    }
    if (feasible.length === 0) return this.fitError(failures, total);
    const best = this.pickBest(pod, feasible);
    return { fit: true, nodeName: best.name, claimsToProvision: volumes.waiting };
  }

  // --- PreFilter: claims -------------------------------------------------------------------------

  private checkClaims(pod: KubeObject): { failure: string } | { bound: KubeObject[]; waiting: string[] } {
    const bound: KubeObject[] = [];
    const waiting: string[] = [];
    if (this.volumes === undefined) return { bound, waiting };
    const namespace = pod.metadata.namespace ?? "default";
    for (const volume of pod.spec?.volumes ?? []) {
      const claimName: string | undefined = volume.persistentVolumeClaim?.claimName;
      if (!claimName) continue;
      const claim = this.volumes.claim(namespace, claimName);
      if (claim === undefined) return { failure: `persistentvolumeclaim "${claimName}" not found` };
      if (claim.metadata.deletionTimestamp)
        return { failure: `persistentvolumeclaim "${claimName}" is being deleted` };
      const volumeName: string | undefined = claim.spec?.volumeName;
      const pv = volumeName ? this.volumes.volume(volumeName) : undefined;
      if (pv !== undefined && claim.status?.phase === "Bound") {
        bound.push(pv);
        continue;
      }
      const className: string | undefined = claim.spec?.storageClassName;
      const storageClass = className ? this.volumes.storageClass(className) : undefined;
      if (storageClass?.volumeBindingMode === "WaitForFirstConsumer") waiting.push(claimName);
      else return { failure: Reasons.unboundImmediateClaims };
    }
    return { bound, waiting };
  }

  // --- Filter ------------------------------------------------------------------------------------

  /** What the filters need that does not depend on the node: computed once per pod, over all pods. */
  private prepare(pod: KubeObject) {
    const requests = podRequests(pod);
    const hostPorts = hostPortsOf(pod);
    // Incoming anti-affinity: per term, the topology values that already hold a matching pod.
    const antiTerms = requiredTerms(pod, "podAntiAffinity").map((term) => ({
      term,
      taken: new Set<string>(),
    }));
    const affinityTerms = requiredTerms(pod, "podAffinity").map((term) => ({
      term,
      present: new Set<string>(),
    }));
    let anyAffinityMatch = false;
    const hasTerms = antiTerms.length > 0 || affinityTerms.length > 0;
    for (const other of hasTerms ? this.assigned : []) {
      const labels = this.byName.get(other.spec.nodeName)?.labels ?? {};
      for (const anti of antiTerms) {
        const value = labels[anti.term.topologyKey];
        if (value !== undefined && termMatchesPod(anti.term, pod, other)) anti.taken.add(value);
      }
      for (const affinity of affinityTerms) {
        const value = labels[affinity.term.topologyKey];
        if (value !== undefined && termMatchesPod(affinity.term, pod, other)) {
          affinity.present.add(value);
          anyAffinityMatch = true;
        }
      }
    }
    // The first pod of a group that requires itself may go anywhere its own terms would match it.
    const selfAffinity =
      !anyAffinityMatch &&
      affinityTerms.length > 0 &&
      affinityTerms.every((affinity) => termMatchesPod(affinity.term, pod, pod));
    // Existing pods' anti-affinity that the incoming pod would violate: topology key -> forbidden values.
    const forbidden = new Map<string, Set<string>>();
    for (const other of this.withAntiAffinity) {
      const labels = this.byName.get(other.spec.nodeName)?.labels ?? {};
      for (const term of requiredTerms(other, "podAntiAffinity")) {
        const value = labels[term.topologyKey];
        if (value === undefined || !termMatchesPod(term, other, pod)) continue;
        const values = forbidden.get(term.topologyKey) ?? new Set<string>();
        values.add(value);
        forbidden.set(term.topologyKey, values);
      }
    }
    return {
      requests,
      hostPorts,
      antiTerms,
      affinityTerms,
      selfAffinity,
      forbidden,
      spread: this.prepareSpread(pod),
    };
  }

  /** Topology spread (DoNotSchedule): matching pods per domain over the nodes the pod may use. */
  private prepareSpread(pod: KubeObject) {
    // biome-ignore lint/suspicious/noExplicitAny: TopologySpreadConstraint as JSON
    const constraints: any[] = (pod.spec?.topologySpreadConstraints ?? []).filter(
      // biome-ignore lint/suspicious/noExplicitAny: TopologySpreadConstraint as JSON
      (c: any) => (c.whenUnsatisfiable ?? "DoNotSchedule") === "DoNotSchedule",
    );
    if (constraints.length === 0) return [];
    const keys = constraints.map((c) => c.topologyKey as string);
    const eligible = this.nodes.filter(
      (state) =>
        keys.every((key) => state.labels[key] !== undefined) &&
        (constraints.every((c) => c.nodeAffinityPolicy === "Ignore") || nodeMatchesPod(pod, state.node)) &&
        constraints.every(
          (c) => c.nodeTaintsPolicy !== "Honor" || untoleratedTaintOf(pod, state.node) === undefined,
        ),
    );
    const podLabels = pod.metadata.labels ?? {};
    return constraints.map((constraint) => {
      const key: string = constraint.topologyKey;
      const extra: Record<string, string> = {};
      for (const labelKey of constraint.matchLabelKeys ?? []) {
        if (labelKey in podLabels) extra[labelKey] = podLabels[labelKey]!;
      }
      const selector = constraint.labelSelector;
      const matches = (labels: Record<string, string>) =>
        selector !== undefined &&
        selector !== null &&
        selectorMatches(selector, labels) &&
        Object.entries(extra).every(([k, v]) => labels[k] === v);
      const counts = new Map<string, number>();
      for (const state of eligible) {
        const domain = state.labels[key]!;
        let count = counts.get(domain) ?? 0;
        for (const other of state.pods) {
          if (other.metadata.deletionTimestamp) continue;
          if (other.metadata.namespace !== pod.metadata.namespace) continue;
          if (matches(other.metadata.labels ?? {})) count++;
        }
        counts.set(domain, count);
      }
      const minDomains: number = constraint.minDomains ?? 1;
      const minimum = counts.size < minDomains ? 0 : Math.min(...counts.values());
      return {
        key,
        maxSkew: Number(constraint.maxSkew ?? 1),
        counts,
        minimum: Number.isFinite(minimum) ? minimum : 0,
        self: matches(podLabels) ? 1 : 0,
      };
    });
  }

  private filter(
    pod: KubeObject,
    state: NodeState,
    checks: ReturnType<ClusterSnapshot["prepare"]>,
    boundVolumes: KubeObject[],
  ): FilterFailure | undefined {
    const node = state.node;
    const unresolvable = (reason: string): FilterFailure => ({
      code: "UnschedulableAndUnresolvable",
      reasons: [reason],
    });
    // NodeUnschedulable
    if (
      node.spec?.unschedulable &&
      !toleratesTaint(pod.spec?.tolerations, {
        key: "node.kubernetes.io/unschedulable",
        effect: "NoSchedule",
      })
    ) {
      return unresolvable(Reasons.unschedulable);
    }
    // TaintToleration
    const taint = untoleratedTaintOf(pod, node);
    if (taint) {
      // Since 1.35 (and later patches of older minors: kubernetes#134740) the status no longer names
      // the taint, which may be sensitive; kube-scheduler v1.35.4 writes the generic text.
      return unresolvable(
        this.kubernetesMinor >= 35 ? "node(s) had untolerated taint(s)" : untoleratedTaint(taint),
      );
    }
    // NodeAffinity
    if (!nodeMatchesPod(pod, node)) return unresolvable(Reasons.nodeAffinity);
    // NodePorts
    if (checks.hostPorts.some((port) => state.hostPorts.has(port))) {
      return { code: "Unschedulable", reasons: [Reasons.ports] };
    }
    // NodeResourcesFit
    const missing: string[] = [];
    if (state.pods.length + 1 > (state.allocatable.pods ?? 110)) missing.push(Reasons.tooManyPods);
    for (const [resource, amount] of Object.entries(checks.requests)) {
      if (amount <= 0) continue;
      const free = (state.allocatable[resource] ?? 0) - (state.requested[resource] ?? 0);
      if (amount > free + 1e-9) missing.push(insufficient(resource));
    }
    if (missing.length > 0) return { code: "Unschedulable", reasons: missing };
    // VolumeBinding / VolumeZone: a bound volume may only be used where its node affinity allows.
    for (const pv of boundVolumes) {
      const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
      // biome-ignore lint/suspicious/noExplicitAny: NodeSelectorTerm as JSON
      if (Array.isArray(terms) && !terms.some((term: any) => nodeSelectorTermMatches(term, node))) {
        return unresolvable(Reasons.volumeNodeAffinity);
      }
    }
    // PodTopologySpread
    for (const spread of checks.spread) {
      const domain = state.labels[spread.key];
      if (domain === undefined) return unresolvable(Reasons.spreadMissingLabel);
      const skew = (spread.counts.get(domain) ?? 0) + spread.self - spread.minimum;
      if (skew > spread.maxSkew) return { code: "Unschedulable", reasons: [Reasons.spread] };
    }
    // InterPodAffinity: required affinity, then the pod's anti-affinity, then existing pods' anti-affinity.
    if (checks.affinityTerms.length > 0 && !checks.selfAffinity) {
      const satisfied = checks.affinityTerms.every((affinity) => {
        const value = state.labels[affinity.term.topologyKey];
        return value !== undefined && affinity.present.has(value);
      });
      if (!satisfied) return unresolvable(Reasons.podAffinity);
    }
    for (const anti of checks.antiTerms) {
      const value = state.labels[anti.term.topologyKey];
      if (value !== undefined && anti.taken.has(value)) {
        return { code: "Unschedulable", reasons: [Reasons.podAntiAffinity] };
      }
    }
    for (const [key, values] of checks.forbidden) {
      const value = state.labels[key];
      if (value !== undefined && values.has(value)) {
        return { code: "Unschedulable", reasons: [Reasons.existingAntiAffinity] };
      }
    }
    return undefined;
  }

  // --- Score -------------------------------------------------------------------------------------

  /**
   * Lexicographic preferences standing in for the default score plugins: avoid PreferNoSchedule
   * taints, honour preferred node affinity and preferred anti-affinity, spread one controller's
   * replicas over zones and then nodes, then the least requested node; the name breaks ties.
   */
  private pickBest(pod: KubeObject, feasible: NodeState[]): NodeState {
    const group = spreadGroup(pod);
    // biome-ignore lint/suspicious/noExplicitAny: preferred terms as JSON
    const preferredNode: any[] =
      pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    // biome-ignore lint/suspicious/noExplicitAny: preferred terms as JSON
    const preferredAnti: any[] =
      pod.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const requests = podRequests(pod);
    const score = (state: NodeState): number[] => {
      const taints: Taint[] = state.node.spec?.taints ?? [];
      const preferNoSchedule = taints.filter(
        (t) => t.effect === "PreferNoSchedule" && !toleratesTaint(pod.spec?.tolerations, t),
      ).length;
      let nodeAffinity = 0;
      for (const preference of preferredNode) {
        if (nodeSelectorTermMatches(preference.preference, state.node))
          nodeAffinity += preference.weight ?? 0;
      }
      let antiPenalty = 0;
      for (const preference of preferredAnti) {
        const term: AffinityTerm | undefined = preference.podAffinityTerm;
        const value = term ? state.labels[term.topologyKey] : undefined;
        if (term === undefined || value === undefined) continue;
        const clash = this.assigned.some(
          (other) =>
            this.byName.get(other.spec.nodeName)?.labels[term.topologyKey] === value &&
            termMatchesPod(term, pod, other),
        );
        if (clash) antiPenalty += preference.weight ?? 0;
      }
      const inZone = this.groupInZone.get(`${group}|${state.labels[ZONE] ?? ""}`) ?? 0;
      const onNode = this.groupOnNode.get(`${group}|${state.name}`) ?? 0;
      const fraction = (resource: string) => {
        const capacity = state.allocatable[resource] ?? 0;
        return capacity > 0 ? ((state.requested[resource] ?? 0) + (requests[resource] ?? 0)) / capacity : 0;
      };
      const used = (fraction("cpu") + fraction("memory")) / 2;
      return [preferNoSchedule, -nodeAffinity, antiPenalty, inZone, onNode, used, state.pods.length];
    };
    let best = feasible[0]!;
    let bestScore = score(best);
    for (const candidate of feasible.slice(1)) {
      const candidateScore = score(candidate);
      for (let i = 0; i < candidateScore.length; i++) {
        if (candidateScore[i]! < bestScore[i]!) {
          best = candidate;
          bestScore = candidateScore;
          break;
        }
        if (candidateScore[i]! > bestScore[i]!) break;
      }
    }
    return best;
  }

  // --- Messages ----------------------------------------------------------------------------------

  /**
   * From 1.34 the DynamicResources plugin (DRA, on by default) takes part in every failed pass and says
   * so before preemption's part: "no new claims to deallocate, " (kube-scheduler v1.35.4's own text).
   */
  private draNote(): string {
    return this.kubernetesMinor >= 34 ? "no new claims to deallocate, " : "";
  }

  private prefilterFailure(reason: string, total: number): ScheduleResult {
    return {
      fit: false,
      message: `0/${total} nodes are available: ${reason}. preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.`,
      reasons: { [reason]: total },
    };
  }

  /**
   * The FitError text: per-reason node counts, sorted as strings, then what preemption found. All pods
   * here have the same priority, so where preemption could help in principle it finds no victims.
   */
  private fitError(failures: Map<string, FilterFailure>, total: number): ScheduleResult {
    const reasons: Record<string, number> = {};
    const preemption: Record<string, number> = {};
    for (const failure of failures.values()) {
      for (const reason of failure.reasons) reasons[reason] = (reasons[reason] ?? 0) + 1;
      const outcome =
        failure.code === "UnschedulableAndUnresolvable"
          ? "Preemption is not helpful for scheduling"
          : "No preemption victims found for incoming pod";
      preemption[outcome] = (preemption[outcome] ?? 0) + 1;
    }
    const histogram = (counts: Record<string, number>) =>
      Object.entries(counts)
        .map(([reason, count]) => `${count} ${reason}`)
        .sort()
        .join(", ");
    return {
      fit: false,
      message: `0/${total} nodes are available: ${histogram(reasons)}. ${this.draNote()}preemption: 0/${total} nodes are available: ${histogram(preemption)}.`,
      reasons,
    };
  }
}
