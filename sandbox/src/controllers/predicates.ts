/**
 * Kubernetes' matching rules the scheduler and the controllers share: resource quantities and pod
 * requests, taints and tolerations, node selectors and node affinity, pod (anti-)affinity terms, and
 * node and pod states.
 */
import { selectorMatches } from "../selectors.js";
import type { KubeObject } from "../types.js";

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A resource.Quantity ("250m", "1.5Gi", "2", "1e3") as a number of base units (cores, bytes). */
export function parseQuantity(quantity: string | number | undefined): number {
  if (quantity === undefined) return 0;
  if (typeof quantity === "number") return quantity;
  const match = /^([+-]?[0-9.]+)([eE][+-]?[0-9]+)?([a-zA-Z]*)$/.exec(quantity.trim());
  if (!match) return Number.NaN;
  const number = Number(match[1]) * (match[2] ? 10 ** Number(match[2].slice(1)) : 1);
  const suffix = match[3] ?? "";
  const factor = BINARY[suffix] ?? DECIMAL[suffix];
  return factor === undefined ? Number.NaN : number * factor;
}

// biome-ignore lint/suspicious/noExplicitAny: container specs are plain JSON
type Container = any;

/**
 * What a pod asks of a node: the larger of its containers' sum and its biggest init container (init
 * containers run one at a time), plus overhead. Requests default to limits, as the API server does.
 */
export function podRequests(pod: KubeObject): Record<string, number> {
  const requestsOf = (container: Container): Record<string, number> => {
    const result: Record<string, number> = {};
    const limits = container?.resources?.limits ?? {};
    const requests = { ...limits, ...(container?.resources?.requests ?? {}) };
    for (const [name, value] of Object.entries(requests)) result[name] = parseQuantity(value as string);
    return result;
  };
  const total: Record<string, number> = {};
  for (const container of pod.spec?.containers ?? []) {
    for (const [name, value] of Object.entries(requestsOf(container)))
      total[name] = (total[name] ?? 0) + value;
  }
  for (const container of pod.spec?.initContainers ?? []) {
    for (const [name, value] of Object.entries(requestsOf(container)))
      total[name] = Math.max(total[name] ?? 0, value);
  }
  for (const [name, value] of Object.entries(pod.spec?.overhead ?? {})) {
    total[name] = (total[name] ?? 0) + parseQuantity(value as string);
  }
  return total;
}

export function toleratesTaint(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === "Exists") return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
  });
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate (the TaintToleration filter). */
export function untoleratedTaintOf(pod: KubeObject, node: KubeObject): Taint | undefined {
  const taints: Taint[] = node.spec?.taints ?? [];
  return taints.find(
    (t) =>
      (t.effect === "NoSchedule" || t.effect === "NoExecute") && !toleratesTaint(pod.spec?.tolerations, t),
  );
}

interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

function requirementMatches(requirement: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
      return value !== undefined && Number(value) > Number(values[0]);
    case "Lt":
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: a NodeSelectorTerm as JSON
export function nodeSelectorTermMatches(term: any, node: KubeObject): boolean {
  const expressions: NodeSelectorRequirement[] = term?.matchExpressions ?? [];
  const fields: NodeSelectorRequirement[] = term?.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false; // an empty term matches nothing
  const labels = node.metadata.labels ?? {};
  return (
    expressions.every((r) => requirementMatches(r, labels[r.key])) &&
    fields.every((r) => r.key === "metadata.name" && requirementMatches(r, node.metadata.name))
  );
}

/** nodeSelector and required node affinity (the NodeAffinity filter). */
export function nodeMatchesPod(pod: KubeObject, node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) {
    if (labels[key] !== value) return false;
  }
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (Array.isArray(terms) && !terms.some((term) => nodeSelectorTermMatches(term, node))) return false;
  return true;
}

export function isNodeReady(node: KubeObject): boolean {
  return (node.status?.conditions ?? []).some(
    (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True",
  );
}

export function isPodTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

export interface AffinityTerm {
  // biome-ignore lint/suspicious/noExplicitAny: a LabelSelector as JSON
  labelSelector?: any;
  namespaces?: string[];
  // biome-ignore lint/suspicious/noExplicitAny: a LabelSelector as JSON
  namespaceSelector?: any;
  topologyKey: string;
  matchLabelKeys?: string[];
  mismatchLabelKeys?: string[];
}

export function requiredTerms(pod: KubeObject, kind: "podAffinity" | "podAntiAffinity"): AffinityTerm[] {
  return pod.spec?.affinity?.[kind]?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
}

/** Does `candidate` fall under `term` written in `owner`'s spec (namespaces, selector, matchLabelKeys)? */
export function termMatchesPod(term: AffinityTerm, owner: KubeObject, candidate: KubeObject): boolean {
  const namespaces = term.namespaces ?? [];
  // An empty namespaceSelector ({}) means every namespace; otherwise the term's own namespace list.
  const allNamespaces =
    term.namespaceSelector !== undefined && Object.keys(term.namespaceSelector).length === 0;
  const inNamespace =
    allNamespaces ||
    (namespaces.length === 0 && term.namespaceSelector === undefined
      ? candidate.metadata.namespace === owner.metadata.namespace
      : namespaces.includes(candidate.metadata.namespace ?? ""));
  if (!inNamespace) return false;
  if (term.labelSelector === undefined || term.labelSelector === null) return false;
  const ownerLabels = owner.metadata.labels ?? {};
  const candidateLabels = candidate.metadata.labels ?? {};
  for (const key of term.matchLabelKeys ?? []) {
    if (key in ownerLabels && candidateLabels[key] !== ownerLabels[key]) return false;
  }
  for (const key of term.mismatchLabelKeys ?? []) {
    if (key in ownerLabels && candidateLabels[key] === ownerLabels[key]) return false;
  }
  return selectorMatches(term.labelSelector, candidateLabels);
}
