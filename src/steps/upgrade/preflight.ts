/**
 * Step: preflight and rehearsal of one node, from one read of the cluster (nodes, the node's pods, every
 * bound pod, every disruption budget, the registry Deployment). Stops before anything changes when the
 * node cannot be drained safely, naming what blocks; otherwise shows what the drain will do.
 */
import type { ListrTask } from "listr2";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { names } from "../../core/render/names.js";
import { evaluatePreflight, type PreflightFacts, rehearsalLines } from "../../core/upgrade/preflight.js";
import { runbook } from "../../core/upgrade/runbook.js";
import { liveName, reached } from "../../core/upgrade/state.js";
import { OperationError, UsageError } from "../../errors.js";
import type { UpgradeContext } from "./context.js";
import { registryRolledOut, waitForRollout } from "./health.js";

export async function gatherPreflightFacts(
  ctx: UpgradeContext,
  node: string,
): Promise<Omit<PreflightFacts, "resuming" | "replacementExpected" | "replicas">> {
  const kube: Kube = ctx.kube;
  const [nodes, podsOnNode, allPods, budgets, registry] = await Promise.all([
    kube.list(Kinds.Node),
    kube.list(Kinds.Pod, { fieldSelector: `spec.nodeName=${node}` }),
    kube.list(Kinds.Pod, {
      fieldSelector: "status.phase!=Succeeded,status.phase!=Failed",
    }),
    kube.list(Kinds.PodDisruptionBudget),
    kube.get(named(Kinds.Deployment, names.deployment, ctx.namespace)),
  ]);
  ctx.stats.lists += 4;
  ctx.stats.reads += 1;
  return {
    node,
    nodes,
    podsOnNode,
    allPods: allPods.filter((p) => p.spec?.nodeName),
    budgets,
    registry,
  };
}

export function preflightStep(node: string): ListrTask<UpgradeContext> {
  return {
    title: `Preflight and rehearsal: ${node}`,
    task: async (ctx, task) => {
      const name = liveName(ctx.state, node);
      const phase = ctx.state.progress[node];
      if (ctx.options.resume && reached(phase, "healthy")) {
        ctx.skipped = `${node} was already upgraded`;
        task.skip(`Preflight ${node}: already upgraded (resumed)`);
        return;
      }
      const evaluate = async () => {
        const facts = await gatherPreflightFacts(ctx, name);
        const result = evaluatePreflight(
          {
            ...facts,
            replicas: ctx.config.registry.replicas,
            resuming: ctx.options.resume && reached(phase, "cordoned"),
            replacementExpected: Boolean(ctx.state.targets.kubernetesVersion),
          },
          ctx.state.drain,
        );
        return { facts, result };
      };
      let { facts, result } = await evaluate();
      // A run stopped at or after the uncordon leaves the registry rolling (the bump's new version, the
      // replica that waited for the node): its budget allows no disruption until the rollout ends. A
      // resumed run waits for that, within the health gate's timeout, instead of refusing.
      if (ctx.options.resume && result.blocking.length > 0 && !registryRolledOut(ctx, facts.registry)) {
        task.title = `Preflight ${name}: waiting for the registry's rollout (up to ${Math.round(ctx.options.healthTimeoutMs / 1000)} s)`;
        await waitForRollout(ctx, Date.now() + ctx.options.healthTimeoutMs, task);
        ({ facts, result } = await evaluate());
      }
      ctx.preflight.set(node, result);
      const lines = rehearsalLines(result);
      ctx.plan.rehearsal[node] = [
        ...result.blocking.map((b) => `BLOCKED: ${b}`),
        ...result.warnings,
        ...lines,
      ];
      ctx.plan.commands[node] = runbook({
        node: name,
        namespace: ctx.namespace,
        targets: ctx.state.targets,
        drain: { ...ctx.state.drain, timeoutSeconds: Math.round(ctx.options.drainTimeoutMs / 1000) },
        nodegroup: result.nodeInfo?.nodegroup,
        cluster: result.nodeInfo?.cluster ?? ctx.config.cluster.name,
        region: ctx.config.cluster.region,
        deployment: facts.registry,
        backupCronJob: "registry-clouddrove-backup",
        replicas: ctx.config.registry.replicas,
      });
      task.output = lines.join("\n");
      if (result.blocking.length > 0) {
        const done = ctx.state.nodes.filter((n) => reached(ctx.state.progress[n], "healthy"));
        const unknownNode = result.blocking[0]?.startsWith("there is no node");
        const message = `Node ${name} cannot be drained safely; it was not touched${done.length > 0 ? ` (already upgraded: ${done.join(", ")})` : " and nothing was changed"}.`;
        const options = {
          details: result.blocking,
          hint: unknownNode
            ? "Name one of the nodes above with --node, or use --all-nodes."
            : "Fix what is listed (or pass the flag it names), then run the same command again; --dry-run shows the rehearsal without changing anything.",
        };
        ctx.detail = result.blocking.join("; ");
        if (ctx.options.dryRun) {
          ctx.warnings.push(`${name}: ${result.blocking.join("; ")}`);
          return;
        }
        throw unknownNode ? new UsageError(message, options) : new OperationError(message, options);
      }
      for (const warning of result.warnings) ctx.warnings.push(warning);
      const d = result.drain;
      const pending = result.placements.filter((p) => p.candidates.length === 0).length;
      ctx.detail = `${d.evict.length} pod(s) to evict, ${d.skip.length} left in place${pending ? `, ${pending} will wait Pending` : ""}`;
      task.title = `Preflight ${name}: ${ctx.detail}`;
    },
  };
}
