/**
 * The record of an upgrade in progress, kept in the cluster so that a later run finds it: `--resume`
 * continues after the last step that finished, `--rollback` knows what to restore, and a new upgrade
 * refuses to start over an unfinished one. It lives in ConfigMap registry-clouddrove-upgrade (no
 * managed-by label, so `deploy` never prunes it), and the node being worked on carries the annotation
 * clouddrove.io/upgrade-state, which `kubectl describe node` shows to anyone who finds it cordoned.
 */
import type { UpgradeTargets } from "./targets.js";

export const STATE_CONFIGMAP = "registry-clouddrove-upgrade";
export const NODE_STATE_ANNOTATION = "clouddrove.io/upgrade-state";
export const STATE_KEYS = {
  state: "state.json",
  /** The registry's config.yml before the bump (for --rollback). */
  previousConfig: "previous-config.yml",
  /** The registry Deployment before the bump, as applied (for --rollback). */
  previousDeployment: "previous-deployment.json",
} as const;

/** A node's progress through its window; each phase is reached when the step that ends in it finished. */
export const PHASES = ["pending", "cordoned", "drained", "bumped", "uncordoned", "healthy"] as const;
export type Phase = (typeof PHASES)[number];

export function reached(phase: Phase | undefined, wanted: Phase): boolean {
  return PHASES.indexOf(phase ?? "pending") >= PHASES.indexOf(wanted);
}

export interface RegistryFingerprint {
  repositories: number;
  tags: number;
  /** sha256 of the sorted "repository:tag" lines. */
  sha256: string;
}

export interface UpgradeState {
  format: 1;
  targets: UpgradeTargets;
  /** The drain flags of the run, so that --resume drains the same way. */
  drain: { force: boolean; deleteEmptyDirData: boolean; gracePeriodSeconds?: number };
  registryCheck: boolean;
  /** Nodes in the order they are upgraded (one for --node). */
  nodes: string[];
  allNodes: boolean;
  progress: Record<string, Phase>;
  /** Old node -> the node that replaced it (nodegroup upgrades). */
  replacements: Record<string, string>;
  outcome: "in-progress" | "failed" | "completed" | "rolled-back";
  startedAt: string;
  updatedAt: string;
  failure?: { node?: string; step: string; message: string };
  registry?: {
    previousImage: string;
    targetImage: string;
    /** Set once the new version has been applied. */
    bumpedAt?: string;
    /** The registry's repositories and tags when the new version took over; null when it could not be read. */
    fingerprint: RegistryFingerprint | null;
    fingerprintNote?: string;
  };
  /** The backup taken before a major registry upgrade (e.g. "Job registry-clouddrove-backup-upgrade-..."). */
  backup?: string;
  /** The image pushed before the upgrade and pulled after it. */
  checkImage?: { repository: string; tag: string; manifestDigest: string; blobDigests: string[] };
}

export function newState(options: {
  targets: UpgradeTargets;
  nodes: string[];
  allNodes: boolean;
  drain: UpgradeState["drain"];
  registryCheck: boolean;
  now: string;
}): UpgradeState {
  return {
    format: 1,
    targets: options.targets,
    drain: options.drain,
    registryCheck: options.registryCheck,
    nodes: options.nodes,
    allNodes: options.allNodes,
    progress: Object.fromEntries(options.nodes.map((n) => [n, "pending" as Phase])),
    replacements: {},
    outcome: "in-progress",
    startedAt: options.now,
    updatedAt: options.now,
  };
}

export function parseState(text: string | undefined): UpgradeState | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as UpgradeState;
    return value && value.format === 1 && Array.isArray(value.nodes) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The node being worked on: the first that has not passed its health gate. */
export function currentNode(state: UpgradeState): string | undefined {
  return state.nodes.find((n) => !reached(state.progress[n], "healthy"));
}

/** The node as it is called now (its replacement after a nodegroup upgrade). */
export function liveName(state: UpgradeState, node: string): string {
  return state.replacements[node] ?? node;
}

/**
 * Does this record stand for a cluster left mid-way — a node cordoned and not yet healthy, or the new
 * registry applied — so that a new upgrade must not start over it? A run that stopped before changing
 * anything (preflight, check image, backup) leaves nothing to resume or undo.
 */
export function isUnfinished(state: UpgradeState | undefined): boolean {
  if (!state || (state.outcome !== "in-progress" && state.outcome !== "failed")) return false;
  const nodeMidway = state.nodes.some(
    (n) => reached(state.progress[n], "cordoned") && !reached(state.progress[n], "healthy"),
  );
  const someDone = state.nodes.some((n) => reached(state.progress[n], "healthy"));
  return nodeMidway || Boolean(state.registry?.bumpedAt) || someDone;
}

/** The annotation value on a node in maintenance: short enough for `kubectl describe node`. */
export function nodeAnnotation(state: UpgradeState, node: string): string {
  const phase = state.progress[node] ?? "pending";
  const target = [
    state.targets.registryVersion && `registry ${state.targets.registryVersion}`,
    state.targets.kubernetesVersion && `kubernetes ${state.targets.kubernetesVersion}`,
    state.targets.upgradeCommand && "upgrade command",
  ]
    .filter(Boolean)
    .join(", ");
  const outcome = state.outcome === "failed" ? `failed at ${state.failure?.step ?? "a step"}; ` : "";
  return `${outcome}${phase} (${target || "drain"}) since ${state.updatedAt}; resume: clouddrove upgrade --resume, undo: clouddrove upgrade --rollback (ConfigMap ${STATE_CONFIGMAP})`;
}
