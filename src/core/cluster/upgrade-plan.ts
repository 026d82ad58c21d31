/**
 * `cluster upgrade --kubernetes-version X`: what may be asked and in which order. EKS moves a control
 * plane one minor at a time and never back; add-ons follow the control plane (each to the version EKS
 * names as default for the new minor); node groups come last, one node at a time, as `upgrade
 * --all-nodes` does them. A run that stopped half-way is continued by running it again: each part that is
 * already at the target is skipped.
 */
import { UsageError } from "../../errors.js";
import { minorVersion } from "../upgrade/targets.js";

const minorOf = (version: string) => minorVersion(version)?.[1] ?? Number.NaN;

export interface ClusterUpgradeFacts {
  cluster: string;
  region: string;
  /** The control plane's minor, from EKS. */
  current: string;
  target: string;
  /** Versions EKS offers for clusters (undefined when it does not say). */
  offered?: string[];
  addons: Array<{ name: string; from?: string; to?: string }>;
  /** Each node's kubelet minor, e.g. "1.33". */
  nodes: Array<{ name: string; version: string }>;
}

/** Refuses what EKS would refuse, before anything is asked of it (exit 2). */
export function checkUpgradeTarget(
  facts: Pick<ClusterUpgradeFacts, "current" | "target" | "offered" | "cluster">,
): void {
  const current = minorOf(facts.current);
  const target = minorOf(facts.target);
  if (!/^1\.\d+$/.test(facts.target) || Number.isNaN(target)) {
    throw new UsageError(`--kubernetes-version ${facts.target} is not a Kubernetes minor version.`, {
      hint: `Write it like "1.${current + 1}".`,
    });
  }
  if (target < current) {
    throw new UsageError(
      `Cluster ${facts.cluster} runs Kubernetes ${facts.current}; EKS never moves a control plane back to ${facts.target}.`,
      {
        hint: "Choose a newer minor, or keep the cluster where it is.",
      },
    );
  }
  if (target > current + 1) {
    throw new UsageError(
      `Cluster ${facts.cluster} runs Kubernetes ${facts.current}: EKS upgrades a control plane one minor at a time, not to ${facts.target} at once.`,
      {
        hint: `Run \`clouddrove cluster upgrade --kubernetes-version 1.${current + 1}\` first, then the next minor.`,
      },
    );
  }
  if (target > current && facts.offered && !facts.offered.includes(facts.target)) {
    throw new UsageError(
      `EKS does not offer Kubernetes ${facts.target} (it offers ${facts.offered.join(", ")}).`,
      {
        hint: "Choose one EKS offers.",
      },
    );
  }
}

/** The plan as lines: each part, and which are done already. */
export function clusterUpgradePlan(facts: ClusterUpgradeFacts): string[] {
  const lines = [`Upgrade EKS cluster ${facts.cluster} (${facts.region}) to Kubernetes ${facts.target}:`];
  lines.push(
    facts.current === facts.target
      ? `  - control plane: already at ${facts.target}`
      : `  - control plane: ${facts.current} -> ${facts.target} (EKS UpdateClusterVersion, what \`eksctl upgrade cluster\` asks for; EKS keeps the API serving, typically 8-10 minutes)`,
  );
  const current = facts.addons.filter((a) => a.to && a.from === a.to).map((a) => a.name);
  for (const addon of facts.addons) {
    if (!addon.to) {
      lines.push(
        `  - add-on ${addon.name}: EKS names no version for ${facts.target}; left at ${addon.from ?? "its version"}`,
      );
    } else if (addon.from !== addon.to)
      lines.push(`  - add-on ${addon.name}: ${addon.from ?? "?"} -> ${addon.to}`);
  }
  if (current.length > 0)
    lines.push(`  - add-ons already at their version for ${facts.target}: ${current.join(", ")}`);
  const behind = facts.nodes.filter((n) => n.version !== facts.target);
  lines.push(
    behind.length === 0
      ? `  - nodes: all at ${facts.target}`
      : `  - nodes: ${behind.map((n) => `${n.name} (${n.version})`).join(", ")} -> ${facts.target}, one at a time through their EKS node groups: cordon, drain, the node group's version update, uncordon, health gate (as \`clouddrove upgrade --all-nodes --kubernetes-version ${facts.target}\`)`,
  );
  return lines;
}
