/**
 * Preflight and rehearsal of one node's maintenance, from one read of the cluster: may it start (the node
 * exists, every node is Ready, no other node is cordoned, the registry is fully ready, no disruption
 * budget forbids the evictions), and what will the drain do (each pod evicted, left or blocking, and where
 * each evicted pod can go). Everything that would stop the drain half-way is found here, before the
 * node is cordoned.
 */
import type { V1Deployment, V1Node, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { hasReadyCondition, isPodReady } from "../health/pod-ready.js";
import { blockingLines, classifyPods, type DrainClassification, type DrainOptions } from "./drain-filter.js";
import { matchesSelector } from "./label-selector.js";
import { type Placement, predictPlacements } from "./placement.js";

export interface PreflightFacts {
  node: string;
  nodes: V1Node[];
  /** Pods bound to the node (fieldSelector spec.nodeName). */
  podsOnNode: V1Pod[];
  /** Every pod bound anywhere (for where evicted pods can go). */
  allPods: V1Pod[];
  /** Every PodDisruptionBudget in the cluster. */
  budgets: V1PodDisruptionBudget[];
  /** The registry Deployment, if deployed. */
  registry?: V1Deployment;
  replicas: number;
  /** A nodegroup upgrade: a replacement node will join. */
  replacementExpected?: boolean;
  /** --resume: the node may already be cordoned and the registry one replica short. */
  resuming?: boolean;
}

export interface BudgetUse {
  budget: string;
  allowed: number;
  pods: string[];
}

export interface PreflightResult {
  /** Reasons not to start; nothing was changed. */
  blocking: string[];
  /** Worth saying, not worth stopping for. */
  warnings: string[];
  drain: DrainClassification;
  placements: Placement[];
  budgets: BudgetUse[];
  /** The node's labels and kubelet, for the bump. */
  nodeInfo?: { nodegroup?: string; cluster?: string; kubelet?: string; zone?: string };
}

function selects(budget: V1PodDisruptionBudget, pod: V1Pod): boolean {
  if ((budget.metadata?.namespace ?? "default") !== (pod.metadata?.namespace ?? "default")) return false;
  return matchesSelector(pod.metadata?.labels, budget.spec?.selector);
}

function budgetChecks(facts: PreflightFacts, drain: DrainClassification, result: PreflightResult): void {
  const byKey = new Map(facts.podsOnNode.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]));
  const uses = new Map<string, BudgetUse & { obj: V1PodDisruptionBudget }>();
  for (const disposition of drain.evict) {
    const pod = byKey.get(`${disposition.namespace}/${disposition.name}`);
    if (!pod || disposition.terminating || disposition.reason.startsWith("finished")) continue;
    const covering = facts.budgets.filter((b) => selects(b, pod));
    const label = `${disposition.namespace}/${disposition.name}`;
    if (covering.length > 1) {
      result.blocking.push(
        `${label} is selected by ${covering.length} PodDisruptionBudgets (${covering.map((b) => b.metadata?.name).join(", ")}): the Eviction API refuses such a pod (500); leave one budget per pod`,
      );
      continue;
    }
    const [budget] = covering;
    // An unready pod under an AlwaysAllow budget is evicted whatever the budget says.
    if (!budget || (!isPodReady(pod) && budget.spec?.unhealthyPodEvictionPolicy === "AlwaysAllow")) continue;
    const key = `${budget.metadata?.namespace}/${budget.metadata?.name}`;
    const use = uses.get(key) ?? {
      budget: key,
      allowed: budget.status?.disruptionsAllowed ?? 0,
      pods: [] as string[],
      obj: budget,
    };
    use.pods.push(label);
    uses.set(key, use);
  }
  for (const use of uses.values()) {
    result.budgets.push({ budget: use.budget, allowed: use.allowed, pods: use.pods });
    const s = use.obj.status;
    const spec = use.obj.spec;
    const rule =
      spec?.minAvailable !== undefined
        ? `minAvailable ${spec.minAvailable}`
        : `maxUnavailable ${spec?.maxUnavailable}`;
    if (use.allowed <= 0) {
      result.blocking.push(
        `PodDisruptionBudget ${use.budget} allows 0 disruptions (${rule}; ${s?.currentHealthy ?? 0} healthy, ${s?.desiredHealthy ?? 0} required), so evicting ${use.pods.join(", ")} would wait forever: relax the budget (e.g. maxUnavailable: 1) or scale the workload up first`,
      );
    } else if (use.pods.length > use.allowed) {
      result.warnings.push(
        `PodDisruptionBudget ${use.budget} allows ${use.allowed} disruption(s) but ${use.pods.length} of its pods are on the node: the drain evicts the rest as replacements become ready elsewhere`,
      );
    }
  }
}

export function evaluatePreflight(facts: PreflightFacts, options: DrainOptions): PreflightResult {
  const result: PreflightResult = {
    blocking: [],
    warnings: [],
    drain: { evict: [], skip: [], block: [] },
    placements: [],
    budgets: [],
  };
  const node = facts.nodes.find((n) => n.metadata?.name === facts.node);
  if (!node) {
    const known = facts.nodes.map((n) => n.metadata?.name).join(", ");
    result.blocking.push(`there is no node ${facts.node} (nodes: ${known || "none"})`);
    return result;
  }
  const labels = (node.metadata?.labels ?? {}) as Record<string, string>;
  result.nodeInfo = {
    nodegroup: labels["eks.amazonaws.com/nodegroup"] ?? labels["alpha.eksctl.io/nodegroup-name"],
    cluster: labels["alpha.eksctl.io/cluster-name"],
    kubelet: node.status?.nodeInfo?.kubeletVersion,
    zone: labels["topology.kubernetes.io/zone"],
  };
  for (const n of facts.nodes) {
    const name = n.metadata?.name;
    if (!hasReadyCondition(n)) result.blocking.push(`node ${name} is not Ready`);
    if (n.spec?.unschedulable && !(facts.resuming && name === facts.node)) {
      result.blocking.push(
        name === facts.node
          ? `node ${name} is already cordoned: finish or undo that first (kubectl uncordon ${name}), or continue an interrupted upgrade with --resume`
          : `node ${name} is cordoned: another maintenance is in progress; one node at a time`,
      );
    }
  }
  const registry = facts.registry;
  if (!registry) {
    result.blocking.push("the registry Deployment does not exist (run clouddrove deploy first)");
  } else if (!facts.resuming) {
    const s = registry.status ?? {};
    const observed = (s.observedGeneration ?? 0) >= (registry.metadata?.generation ?? 0);
    const ready = s.readyReplicas ?? 0;
    if (!observed || ready < facts.replicas || (s.updatedReplicas ?? 0) < facts.replicas) {
      result.blocking.push(
        `the registry is not fully ready: ${ready}/${facts.replicas} ready, ${s.updatedReplicas ?? 0} updated — a drain now could take it below ${facts.replicas - 1}; wait for \`clouddrove status\` to be healthy`,
      );
    }
  }

  result.drain = classifyPods(facts.podsOnNode, options);
  if (result.drain.block.length > 0) {
    result.blocking.push(
      `the drain cannot evict ${result.drain.block.length} pod(s) on ${facts.node}:`,
      ...blockingLines(result.drain.block).map((line) => `  ${line}`),
    );
  }
  budgetChecks(facts, result.drain, result);
  result.placements = predictPlacements(result.drain.evict, {
    node: facts.node,
    nodes: facts.nodes,
    pods: facts.allPods,
    replacementExpected: facts.replacementExpected,
  });
  return result;
}

/** The rehearsal as lines: what the drain will do with each pod and where the evicted ones go. */
export function rehearsalLines(result: PreflightResult): string[] {
  const lines: string[] = [];
  const where = new Map(result.placements.map((p) => [p.pod, p.summary]));
  for (const p of result.drain.evict) {
    const key = `${p.namespace}/${p.name}`;
    lines.push(
      `evict ${key}: ${p.reason}${where.has(key) ? `; ${where.get(key)?.replace(`${key} `, "")}` : ""}`,
    );
  }
  for (const p of result.drain.skip) lines.push(`leave ${p.namespace}/${p.name}: ${p.reason}`);
  for (const p of result.drain.block) lines.push(`BLOCKS ${p.namespace}/${p.name}: ${p.reason} (${p.flag})`);
  for (const b of result.budgets) {
    lines.push(`budget ${b.budget}: ${b.allowed} disruption(s) allowed for ${b.pods.join(", ")}`);
  }
  return lines;
}
