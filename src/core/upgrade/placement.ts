/**
 * Where an evicted pod's replacement can run while the node is drained: the scheduler's hard rules that
 * decide it here — node Ready and schedulable, taints, nodeSelector, required pod anti-affinity, and
 * topology spread with DoNotSchedule — checked against the other nodes and the pods on them. Resource
 * fit is not modelled (the registry's requests are small next to a node; `kubectl describe pod` shows
 * the scheduler's own verdict). The point is the rehearsal: to say before cordoning that, for example, a
 * registry replica "will stay Pending until the node returns".
 */
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { PodDisposition } from "./drain-filter.js";
import { matchesSelector } from "./label-selector.js";

export interface PlacementFacts {
  /** The node being drained. */
  node: string;
  nodes: V1Node[];
  /** Every pod in the cluster that occupies a node (not finished, bound). */
  pods: V1Pod[];
  /** A replacement node will join (nodegroup upgrade): Pending pods wait for it, not for the uncordon. */
  replacementExpected?: boolean;
}

export interface Placement {
  pod: string;
  /** Nodes the replacement could be scheduled on now. */
  candidates: string[];
  /** One line: where it goes, or why it stays Pending and until when. */
  summary: string;
}

const HOSTNAME = "kubernetes.io/hostname";

const isReady = (node: V1Node) =>
  (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

function untoleratedTaint(node: V1Node, pod: V1Pod): string | undefined {
  const tolerations = pod.spec?.tolerations ?? [];
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
    const tolerated = tolerations.some((t) => {
      if (t.effect && t.effect !== taint.effect) return false;
      if (t.operator === "Exists") return !t.key || t.key === taint.key;
      return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
    });
    if (!tolerated) return taint.key;
  }
  return undefined;
}

function nodeSelectorMismatch(node: V1Node, pod: V1Pod): boolean {
  const selector = pod.spec?.nodeSelector ?? {};
  const labels = node.metadata?.labels ?? {};
  if (Object.entries(selector).some(([k, v]) => labels[k] !== v)) return true;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return false;
  return !terms.some((term) => matchesSelector(labels, { matchExpressions: term.matchExpressions ?? [] }));
}

/** The topology value of a node for a key (hostname falls back to the node name). */
function domainOf(node: V1Node | undefined, key: string): string | undefined {
  if (!node) return undefined;
  const value = node.metadata?.labels?.[key];
  if (value !== undefined) return value;
  return key === HOSTNAME ? node.metadata?.name : undefined;
}

interface Occupant {
  pod: V1Pod;
  node: V1Node | undefined;
}

/** Pods that stay where they are while the drain runs: everything not on the drained node. */
function occupants(facts: PlacementFacts): Occupant[] {
  const byName = new Map(facts.nodes.map((n) => [n.metadata?.name as string, n]));
  return facts.pods
    .filter((p) => p.spec?.nodeName && p.spec.nodeName !== facts.node && !p.metadata?.deletionTimestamp)
    .map((pod) => ({ pod, node: byName.get(pod.spec?.nodeName as string) }));
}

function antiAffinityConflict(node: V1Node, pod: V1Pod, others: Occupant[]): string | undefined {
  const terms = pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  for (const term of terms) {
    const key = term.topologyKey;
    const domain = domainOf(node, key);
    const namespace = pod.metadata?.namespace;
    const clash = others.find(
      (o) =>
        (o.pod.metadata?.namespace ?? "default") === (namespace ?? "default") &&
        domainOf(o.node, key) === domain &&
        matchesSelector(o.pod.metadata?.labels, term.labelSelector),
    );
    if (clash) return key === HOSTNAME ? "anti-affinity" : `anti-affinity on ${key}`;
  }
  return undefined;
}

/** maxSkew with DoNotSchedule: placing here must not make this domain exceed the emptiest one by more. */
function spreadConflict(
  node: V1Node,
  pod: V1Pod,
  facts: PlacementFacts,
  others: Occupant[],
): string | undefined {
  const constraints = (pod.spec?.topologySpreadConstraints ?? []).filter(
    (c) => c.whenUnsatisfiable === "DoNotSchedule",
  );
  for (const constraint of constraints) {
    const key = constraint.topologyKey;
    // Domains are those of nodes the pod could otherwise use (cordoned ones count: taints are ignored).
    const domains = new Map<string, number>();
    for (const n of facts.nodes) {
      if (nodeSelectorMismatch(n, pod)) continue;
      const domain = domainOf(n, key);
      if (domain !== undefined) domains.set(domain, 0);
    }
    for (const o of others) {
      const domain = domainOf(o.node, key);
      if (
        domain !== undefined &&
        domains.has(domain) &&
        matchesSelector(o.pod.metadata?.labels, constraint.labelSelector)
      ) {
        domains.set(domain, (domains.get(domain) ?? 0) + 1);
      }
    }
    const here = domainOf(node, key);
    if (here === undefined) return `no ${key} label`;
    const min = Math.min(...domains.values());
    if ((domains.get(here) ?? 0) + 1 - min > (constraint.maxSkew ?? 1)) return `topology spread over ${key}`;
  }
  return undefined;
}

/** Why `pod`'s replacement cannot run on `node` now, or undefined when it can. */
export function whyNot(
  node: V1Node,
  pod: V1Pod,
  facts: PlacementFacts,
  others: Occupant[],
): string | undefined {
  if (node.metadata?.name === facts.node) return "the drained node";
  if (node.spec?.unschedulable) return "cordoned";
  if (!isReady(node)) return "not Ready";
  const taint = untoleratedTaint(node, pod);
  if (taint) return `taint ${taint}`;
  if (nodeSelectorMismatch(node, pod)) return "node selector";
  return antiAffinityConflict(node, pod, others) ?? spreadConflict(node, pod, facts, others);
}

function summarize(pod: string, reasons: Map<string, string[]>, facts: PlacementFacts): string {
  const parts = [...reasons.entries()]
    .filter(([reason]) => reason !== "the drained node")
    .map(([reason, nodes]) =>
      reason === "anti-affinity"
        ? `anti-affinity, ${nodes.length} other node${nodes.length === 1 ? "" : "s"} taken`
        : `${reason} (${nodes.length} node${nodes.length === 1 ? "" : "s"})`,
    );
  const until = facts.replacementExpected
    ? "the replacement node joins"
    : `${facts.node} is schedulable again (uncordon)`;
  return `${pod} will stay Pending until ${until}: ${parts.join("; ") || "no other node"}`;
}

/** For each evicted pod with a controller: where its replacement can go while the node is drained. */
export function predictPlacements(evicted: PodDisposition[], facts: PlacementFacts): Placement[] {
  const others = occupants(facts);
  const byKey = new Map(facts.pods.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]));
  const placements: Placement[] = [];
  for (const disposition of evicted) {
    const pod = byKey.get(`${disposition.namespace}/${disposition.name}`);
    const label = `${disposition.namespace}/${disposition.name}`;
    if (!pod || !disposition.controller || disposition.reason.startsWith("finished")) continue;
    if (disposition.controller.startsWith("Job/")) {
      placements.push({
        pod: label,
        candidates: [],
        summary: `${label}: its Job decides whether it runs again`,
      });
      continue;
    }
    const reasons = new Map<string, string[]>();
    const candidates: string[] = [];
    for (const node of facts.nodes) {
      const why = whyNot(node, pod, facts, others);
      const name = node.metadata?.name as string;
      if (why === undefined) candidates.push(name);
      else reasons.set(why, [...(reasons.get(why) ?? []), name]);
    }
    placements.push({
      pod: label,
      candidates,
      summary:
        candidates.length > 0
          ? `${label} can be recreated on ${candidates.slice(0, 3).join(", ")}${candidates.length > 3 ? ` and ${candidates.length - 3} more` : ""}`
          : summarize(label, reasons, facts),
    });
  }
  return placements;
}
