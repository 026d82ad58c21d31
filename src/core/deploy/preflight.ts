/**
 * Whether the cluster can hold the registry, decided before any write: the APIs the manifests use, enough
 * schedulable nodes in distinct zones for one replica each, and the CSI driver of the chosen storage.
 */

import type { V1Node } from "@kubernetes/client-node";
import type { Config } from "../../config/schema.js";
import { nodeHealth } from "../health/evaluate.js";

export interface PreflightFacts {
  /** "group/version" strings the server offers ("v1" for the core group). */
  groupVersions: string[];
  /** Resource kinds per group/version, from discovery, for the ones we check. */
  kinds: Record<string, string[]>;
  nodes: V1Node[];
  csiDrivers: string[];
}

export interface PreflightResult {
  /** Nothing can be written: exit before the first write. */
  blocking: string[];
  /** Stop unless --force: a deploy would succeed but leave the registry degraded. */
  forceable: string[];
  /** Worth saying; deploy goes on. */
  notes: string[];
  /** Schedulable nodes per zone (for the report). */
  zones: Record<string, string[]>;
}

const REQUIRED_APIS: Array<{ groupVersion: string; kind: string; why: string }> = [
  { groupVersion: "apps/v1", kind: "Deployment", why: "the registry's Deployment" },
  {
    groupVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    why: "the disruption budget that lets drains evict one replica at a time",
  },
  { groupVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", why: "the NetworkPolicies" },
  { groupVersion: "batch/v1", kind: "CronJob", why: "the backup CronJob" },
];

export const CSI_DRIVER_FOR_STORAGE: Record<string, string | undefined> = {
  efs: "efs.csi.aws.com",
  // NFS volumes are mounted by the kubelet itself; no CSI driver is involved.
  nfs: undefined,
};

export function evaluatePreflight(config: Config, facts: PreflightFacts): PreflightResult {
  const blocking: string[] = [];
  const forceable: string[] = [];
  const notes: string[] = [];

  for (const api of REQUIRED_APIS) {
    if (!facts.kinds[api.groupVersion]?.includes(api.kind)) {
      blocking.push(`the cluster does not serve ${api.groupVersion} ${api.kind}, needed for ${api.why}`);
    }
  }

  const zones: Record<string, string[]> = {};
  for (const node of facts.nodes.map(nodeHealth)) {
    if (!node.ready || !node.schedulable) continue;
    const zone = node.zone ?? "(no zone label)";
    zones[zone] = [...(zones[zone] ?? []), node.name];
  }
  const usableZones = Object.keys(zones).filter((z) => z !== "(no zone label)");
  const replicas = config.registry.replicas;
  if (usableZones.length < replicas) {
    const have = Object.entries(zones)
      .map(([zone, nodes]) => `${zone}: ${nodes.length}`)
      .join(", ");
    forceable.push(
      `${replicas} replicas need ${replicas} schedulable nodes in ${replicas} distinct zones, but the cluster has ` +
        `${usableZones.length} zone(s) with Ready, schedulable nodes (${have || "none"}). The required anti-affinity ` +
        `and zone spread would leave ${replicas - usableZones.length} replica(s) Pending.`,
    );
  }

  const driver = CSI_DRIVER_FOR_STORAGE[config.storage.type];
  if (driver && !facts.csiDrivers.includes(driver)) {
    blocking.push(
      `the CSI driver ${driver} for storage.type ${config.storage.type} is not installed (no CSIDriver object): the ` +
        "volume could never be mounted. Install the aws-efs-csi-driver addon (clouddrove cluster create does).",
    );
  }
  if (config.network.allowedCidrs.length === 0) {
    notes.push(
      `network.allowedCidrs is empty: only pods in namespace ${config.namespace} can reach the registry (set --allowed-cidrs to open it).`,
    );
  }
  return { blocking, forceable, notes, zones };
}

/**
 * Distribution upgrades are forward-only (3.x may write what 2.x cannot read): a deploy whose configured
 * version is an older major than the one running would move the registry back. The message names the fix.
 */
export function registryDowngradeProblem(
  runningImage: string | undefined,
  configuredVersion: string,
): string | undefined {
  const running = /:(\d+)\.[^:@]*$/.exec(runningImage ?? "")?.[1];
  const configured = /^(\d+)\./.exec(configuredVersion)?.[1];
  if (running === undefined || configured === undefined || Number(configured) >= Number(running))
    return undefined;
  return (
    `The registry runs ${runningImage}; deploying registry.version ${configuredVersion} would move it back a ` +
    "major version, which Distribution does not support (upgrades are forward-only)."
  );
}
