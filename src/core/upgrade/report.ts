/**
 * What `upgrade` reports: the JSON document (`-o json`), the text summary, and — when a step failed or
 * the run was interrupted — the state the node and the registry were left in, with the exact commands
 * that resume or roll back. A node is never left cordoned without this being said.
 */
import type { HealthReport } from "../health/evaluate.js";
import type { StepRecord } from "../step-record.js";
import { describeTargets, type UpgradeTargets } from "./targets.js";

export interface Availability {
  /** The fewest ready registry replicas seen by the watcher during the run (null: never observed). */
  minReadyReplicas: number | null;
  /** Seconds with no ready replica at all: an outage. */
  unavailableSeconds: number;
  /** Seconds with fewer ready replicas than desired. */
  degradedSeconds: number;
  /** Set when the measurement itself was cut short. */
  note?: string;
}

export interface UpgradeReport {
  ok: boolean;
  dryRun: boolean;
  /** The node given with --node (the first node for --all-nodes). */
  node: string | null;
  nodes: string[];
  target: UpgradeTargets;
  steps: StepRecord[];
  availability: Availability;
  health: HealthReport | null;
  /** Old node -> the node that replaced it. */
  replacements: Record<string, string>;
  warnings: string[];
  /** Dry run: what would happen, and the commands to do it by hand. */
  plan?: { rehearsal: Record<string, string[]>; commands: Record<string, string[]> };
  /** Kubernetes API requests made, per node upgraded (the benchmark reads it). */
  requests?: { total: number; perNode: number };
}

export function upgradeReportText(report: UpgradeReport, target: string): string {
  const lines: string[] = [];
  if (report.dryRun && report.plan) {
    for (const node of report.nodes) {
      lines.push(`Plan for ${node} on ${target}: ${describeTargets(report.target)}`);
      for (const line of report.plan.rehearsal[node] ?? []) lines.push(`  ${line}`);
      lines.push("", "Equivalent commands:");
      for (const line of report.plan.commands[node] ?? []) lines.push(`  ${line}`);
      lines.push("");
    }
    lines.push("Dry run: nothing was changed.");
    return lines.join("\n");
  }
  const replaced = Object.entries(report.replacements)
    .map(([from, to]) => `${from} -> ${to}`)
    .join(", ");
  lines.push(
    `Upgraded ${report.nodes.length === 1 ? `node ${report.nodes[0]}` : `${report.nodes.length} nodes, one at a time`} on ${target}: ${describeTargets(report.target)}.`,
  );
  if (replaced) lines.push(`Replaced: ${replaced}`);
  const a = report.availability;
  lines.push(
    `Availability: at least ${a.minReadyReplicas ?? "?"} replica(s) ready throughout; ${a.unavailableSeconds.toFixed(1)} s with none ready, ${a.degradedSeconds.toFixed(1)} s with fewer than all.`,
  );
  if (report.health) {
    const r = report.health.registry;
    lines.push(
      `Registry: ${r.image ?? "?"}, ${r.ready}/${r.desired} ready on ${new Set(r.pods.filter((p) => p.ready).map((p) => p.node)).size} node(s); ${report.health.service.endpoints} endpoint(s).`,
    );
  }
  // Warnings go to stderr (the command prints them); stdout is the result.
  return lines.join("\n");
}

/** What was found after a failure, to say where things stand. */
export interface LeftState {
  node: string;
  nodeExists: boolean;
  cordoned: boolean;
  /** Pods still on the node that the drain would evict. */
  podsLeft: number;
  registryImage: string | null;
  registryReady: number;
  registryDesired: number;
  bumped: boolean;
  /** The flags that select the cluster (as given: --kubeconfig, --context, -n, ...) for the commands. */
  clusterFlags: string;
}

export function leftStateDetails(left: LeftState): { details: string[]; hint: string } {
  const details: string[] = [];
  if (!left.nodeExists) details.push(`node ${left.node} no longer exists (replaced by its nodegroup)`);
  else if (left.cordoned) {
    details.push(
      `node ${left.node} is CORDONED (no new pods are scheduled on it)${left.podsLeft > 0 ? ` and still runs ${left.podsLeft} pod(s) to evict` : " and drained"}`,
    );
  } else details.push(`node ${left.node} is schedulable`);
  details.push(
    `registry: ${left.registryImage ?? "no Deployment"}, ${left.registryReady}/${left.registryDesired} replicas ready${left.bumped ? " (the new version was applied)" : ""}`,
  );
  const flags = left.clusterFlags ? ` ${left.clusterFlags}` : "";
  const undo = left.bumped
    ? "restores the registry's previous image and config (if the new version wrote no data) and uncordons"
    : "uncordons the node";
  return {
    details,
    hint: `Continue where it stopped: \`clouddrove upgrade --resume${flags}\`; or undo: \`clouddrove upgrade --rollback${flags}\` (${undo}).${left.cordoned ? ` To only make the node schedulable again: \`kubectl uncordon ${left.node}\`.` : ""}`,
  };
}
