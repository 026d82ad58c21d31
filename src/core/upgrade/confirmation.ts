/**
 * What an upgrade is about to do, in the words shown before its confirmation: which nodes are cordoned
 * and drained, what changes while they are, and that Distribution 2 -> 3 is a one-way move.
 */
import { majorOf } from "../registry/image.js";
import { describeTargets, type UpgradeTargets } from "./targets.js";

export interface UpgradeIntent {
  nodes: string[];
  targets: UpgradeTargets;
  /** The registry's image tag now, e.g. "2.8.2". */
  currentRegistryTag?: string;
  skipBackup: boolean;
}

export function upgradeEffects(intent: UpgradeIntent): string[] {
  const { nodes, targets } = intent;
  const which =
    nodes.length === 1 ? `node ${nodes[0]}` : `${nodes.length} nodes, one at a time (${nodes.join(", ")})`;
  const effects = [
    `cordon and drain ${which}: the pods on it are evicted and start elsewhere; the registry keeps serving from the other replicas`,
    `while drained: ${describeTargets(targets)}`,
  ];
  const from = majorOf(intent.currentRegistryTag);
  const to = majorOf(targets.registryVersion);
  if (to !== undefined && (from === undefined || to > from)) {
    effects.push(
      `registry ${intent.currentRegistryTag ?? "?"} -> ${targets.registryVersion} is one-way: once the new version has written data, --rollback refuses to move back`,
      intent.skipBackup
        ? "no backup is taken first (--skip-backup)"
        : "the registry's data is backed up first (through the backup CronJob, when backups are configured)",
    );
  }
  effects.push(
    "then uncordon and wait for the health gates (every node Ready, 3/3 replicas, the registry answering)",
  );
  return effects;
}
