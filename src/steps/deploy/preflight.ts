/**
 * Step: check the cluster before any write — reachable with working credentials (exit 4 otherwise),
 * the APIs the manifests need, enough schedulable nodes in distinct zones, the storage's CSI driver.
 */
import type { ListrTask } from "listr2";
import type { Kube } from "../../adapters/kube.js";
import { Kinds } from "../../adapters/kube-kinds.js";
import { evaluatePreflight, type PreflightFacts } from "../../core/deploy/preflight.js";
import { OperationError } from "../../errors.js";
import type { DeployContext } from "./context.js";

const CHECKED_GROUP_VERSIONS = ["apps/v1", "policy/v1", "networking.k8s.io/v1", "batch/v1"];

/**
 * Resource kinds of a few group/versions, from discovery. A group/version is missing (no kinds) only when
 * the server answered 404 for it; any other failure is retried, then fails the step as an API error.
 */
async function discoverKinds(kube: Kube): Promise<Record<string, string[]>> {
  const served = await Promise.all(CHECKED_GROUP_VERSIONS.map((gv) => kube.servedKinds(gv)));
  return Object.fromEntries(CHECKED_GROUP_VERSIONS.map((gv, i) => [gv, served[i] ?? []]));
}

export async function gatherPreflightFacts(kube: Kube): Promise<PreflightFacts> {
  // Nodes first: the first request is the one that tells an unreachable cluster or bad credentials (exit 4).
  const nodes = await kube.list(Kinds.Node);
  const [kinds, drivers] = await Promise.all([discoverKinds(kube), kube.list(Kinds.CSIDriver)]);
  return {
    groupVersions: Object.keys(kinds).filter((gv) => (kinds[gv] ?? []).length > 0),
    kinds,
    nodes,
    csiDrivers: drivers.map((d) => d.metadata?.name ?? ""),
  };
}

export function preflightStep(): ListrTask<DeployContext> {
  return {
    title: "Check the cluster",
    task: async (ctx, task) => {
      const facts = await gatherPreflightFacts(ctx.kube);
      ctx.stats.lists += 2;
      ctx.stats.reads += CHECKED_GROUP_VERSIONS.length;
      const result = evaluatePreflight(ctx.config, facts);
      ctx.preflight = result;
      if (result.blocking.length > 0) {
        throw new OperationError("The cluster cannot hold the registry; nothing was changed.", {
          details: result.blocking,
          hint: "Fix the cluster (see above) and run deploy again.",
        });
      }
      if (result.forceable.length > 0) {
        if (!ctx.options.force) {
          throw new OperationError(
            "The registry would not be highly available on this cluster; nothing was changed.",
            {
              details: result.forceable,
              hint: "Add schedulable nodes in more zones (clouddrove cluster create makes one per zone), or pass --force to deploy anyway.",
            },
          );
        }
        ctx.warnings.push(...result.forceable);
      }
      ctx.warnings.push(...result.notes);
      const zones = Object.keys(result.zones).length;
      task.title = `Check the cluster: ${facts.nodes.length} node(s) in ${zones} zone(s), APIs and storage driver present`;
    },
  };
}
