/**
 * The AWS half of `cluster upgrade`: what it reads before the plan (the control plane's version, EKS's
 * versions, the add-ons and the version EKS names for each at the target), then the control plane's
 * update and each add-on's, waited for. Every part already at its target is skipped, so a re-run
 * continues where a stopped one ended.
 */
import type { ListrTask } from "listr2";
import {
  type AwsClients,
  defaultAddonVersion,
  describeCluster,
  eksVersions,
  listAddons,
  offeredForNewClusters,
  updateAddon,
  updateClusterVersion,
  updateNodegroupVersion,
} from "../../adapters/aws.js";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import type { ClusterUpgradeFacts } from "../../core/cluster/upgrade-plan.js";
import { names } from "../../core/render/names.js";
import { formatMinor, minorVersion } from "../../core/upgrade/targets.js";
import { UsageError } from "../../errors.js";

const NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup";

/** "v1.33.5-eks-..." -> "1.33"; "?" when the kubelet reports none. */
function kubeletMinor(kubelet: string | undefined): string {
  const version = minorVersion(kubelet);
  return version ? formatMinor(version) : "?";
}

/** Each node's kubelet minor ("v1.33.5-eks-..." -> "1.33") and its EKS node group. */
export async function nodeVersions(
  kube: Kube,
): Promise<Array<{ name: string; version: string; nodegroup?: string }>> {
  const nodes = await kube.list(Kinds.Node);
  return nodes.map((node) => ({
    name: node.metadata?.name ?? "",
    version: kubeletMinor(node.status?.nodeInfo?.kubeletVersion),
    nodegroup: node.metadata?.labels?.[NODEGROUP_LABEL],
  }));
}

/** Whether the registry runs in `namespace` (then its nodes go through the registry's own upgrade). */
export async function registryDeployed(kube: Kube, namespace: string): Promise<boolean> {
  return (await kube.get(named(Kinds.Deployment, names.deployment, namespace))) !== undefined;
}

export interface ClusterUpgradeContext {
  clients: AwsClients;
  facts: ClusterUpgradeFacts;
  poll: { timeoutMs: number; intervalMs: number; maxIntervalMs?: number; signal?: AbortSignal };
  /** What was changed, for the report. */
  done: string[];
}

/** The facts of the plan, from EKS (the nodes' versions are the caller's, from the Kubernetes API). */
export async function readUpgradeFacts(
  clients: AwsClients,
  cluster: string,
  target: string,
  nodes: ClusterUpgradeFacts["nodes"],
): Promise<ClusterUpgradeFacts> {
  const info = await describeCluster(clients.eks, cluster);
  if (!info?.version) {
    throw new UsageError(`EKS has no cluster named ${cluster} in ${clients.region}.`, {
      hint: "Check --cluster-name and --region (or cluster.name and cluster.region in clouddrove.yaml).",
    });
  }
  const [versions, addons] = await Promise.all([eksVersions(clients.eks), listAddons(clients.eks, cluster)]);
  const withTargets = await Promise.all(
    addons.map(async (addon) => ({
      name: addon.name,
      from: addon.version,
      to: await defaultAddonVersion(clients.eks, addon.name, target),
    })),
  );
  return {
    cluster,
    region: clients.region,
    current: info.version,
    target,
    offered: offeredForNewClusters(versions),
    addons: withTargets,
    nodes,
  };
}

export function controlPlaneTask(): ListrTask<ClusterUpgradeContext> {
  return {
    title: "Upgrade the control plane",
    skip: (ctx) =>
      ctx.facts.current === ctx.facts.target ? `Control plane already at ${ctx.facts.target}` : false,
    task: async (ctx, task) => {
      const { cluster, current, target } = ctx.facts;
      await updateClusterVersion(ctx.clients.eks, cluster, target, ctx.poll, (status) => {
        task.output = status;
      });
      ctx.done.push(`control plane ${current} -> ${target}`);
      task.title = `Control plane: ${current} -> ${target}`;
    },
  };
}

export function addonsTask(): ListrTask<ClusterUpgradeContext> {
  return {
    title: "Update the add-ons",
    skip: (ctx) =>
      ctx.facts.addons.every((a) => !a.to || a.to === a.from) ? "Every add-on is at its version" : false,
    task: async (ctx, task) => {
      let updated = 0;
      // One at a time: the network and DNS add-ons roll their DaemonSets and Deployments.
      for (const addon of ctx.facts.addons) {
        if (!addon.to || addon.to === addon.from) continue;
        task.output = `${addon.name}: ${addon.from ?? "?"} -> ${addon.to}`;
        await updateAddon(ctx.clients.eks, ctx.facts.cluster, addon.name, addon.to, ctx.poll, (status) => {
          task.output = `${addon.name}: ${status}`;
        });
        ctx.done.push(`add-on ${addon.name} ${addon.from ?? "?"} -> ${addon.to}`);
        updated++;
      }
      task.title = `Add-ons: ${updated} updated`;
    },
  };
}

/**
 * Without the registry on the cluster there is nothing to keep serving: each node group is updated by
 * EKS itself (a replacement node, then the old one drained), one node group at a time.
 */
export function nodegroupsTask(nodegroups: string[]): ListrTask<ClusterUpgradeContext> {
  return {
    title: "Update the node groups",
    task: async (ctx, task) => {
      for (const nodegroupName of nodegroups) {
        task.output = `${nodegroupName} -> ${ctx.facts.target}`;
        await updateNodegroupVersion(
          ctx.clients.eks,
          { clusterName: ctx.facts.cluster, nodegroupName, version: ctx.facts.target },
          ctx.poll,
          (status) => {
            task.output = `${nodegroupName}: ${status}`;
          },
        );
        ctx.done.push(`node group ${nodegroupName} -> ${ctx.facts.target}`);
      }
      task.title = `Node groups: ${nodegroups.length} updated`;
    },
  };
}
