/**
 * Steps: cordon, drain and uncordon one node. Each writes the state record when it finishes, so that a
 * later run knows how far this one got; the node carries the state as an annotation while it is out of
 * service.
 */
import type { ListrTask } from "listr2";
import { evictAndWait, setUnschedulable } from "../../adapters/drain.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { classifyPods } from "../../core/upgrade/drain-filter.js";
import { liveName, type Phase, reached } from "../../core/upgrade/state.js";
import { OperationError } from "../../errors.js";
import type { UpgradeContext } from "./context.js";
import { markNode, saveState } from "./state-store.js";

async function advance(ctx: UpgradeContext, node: string, phase: Phase): Promise<void> {
  ctx.state.progress[node] = phase;
  await saveState(ctx);
}

/** Skips a step the state says is done (a resumed run). */
function alreadyDone(
  ctx: UpgradeContext,
  node: string,
  phase: Phase,
  task: { skip(m: string): void },
  what: string,
) {
  if (!reached(ctx.state.progress[node], phase)) return false;
  ctx.skipped = `${what} already done (resumed)`;
  task.skip(`${what}: already done`);
  return true;
}

export function cordonStep(node: string): ListrTask<UpgradeContext> {
  return {
    title: `Cordon ${node}`,
    task: async (ctx, task) => {
      if (alreadyDone(ctx, node, "cordoned", task, `Cordon ${node}`)) return;
      // The record first: if the cordon goes through and this process dies, the next run knows.
      ctx.state.outcome = "in-progress";
      await saveState(ctx);
      await setUnschedulable(ctx.kube, node, true, { signal: ctx.options.signal, stats: ctx.stats });
      await advance(ctx, node, "cordoned");
      await markNode(ctx, node, true);
      ctx.detail = `${node} is unschedulable`;
      task.title = `Cordoned ${node}`;
    },
  };
}

export function drainStep(node: string): ListrTask<UpgradeContext> {
  return {
    title: `Drain ${node}`,
    task: async (ctx, task) => {
      if (alreadyDone(ctx, node, "drained", task, `Drain ${node}`)) return;
      const started = Date.now();
      const pods = await ctx.kube.list(Kinds.Pod, { fieldSelector: `spec.nodeName=${node}` });
      ctx.stats.lists++;
      const plan = classifyPods(pods, ctx.state.drain);
      if (plan.block.length > 0) {
        // A pod appeared since the preflight that the drain may not evict.
        throw new OperationError(
          `Draining ${node} stopped before evicting anything: ${plan.block.length} pod(s) block it.`,
          {
            details: plan.block.map((p) => `${p.namespace}/${p.name}: ${p.reason} (${p.flag})`),
            hint: "The node stays cordoned. Pass the flag named above with --resume, or undo with --rollback.",
          },
        );
      }
      const result = await evictAndWait(ctx.kube, node, plan.evict, {
        deadline: started + ctx.options.drainTimeoutMs,
        timeoutText: ctx.options.drainTimeoutText,
        retryIntervalMs: ctx.options.evictionRetryMs,
        gracePeriodSeconds: ctx.state.drain.gracePeriodSeconds,
        signal: ctx.options.signal,
        stats: ctx.stats,
        onProgress: (p) => {
          task.output = `pods evicted ${p.evicted}/${p.total}, gone ${p.gone}/${p.total}${p.waiting ? `; ${p.waiting}` : ""}`;
        },
      });
      await advance(ctx, node, "drained");
      await markNode(ctx, node, true);
      ctx.detail = `${result.evicted} pod(s) evicted, ${plan.skip.length} left (DaemonSet/mirror), in ${((Date.now() - started) / 1000).toFixed(1)} s`;
      task.title = `Drained ${node}: ${ctx.detail}`;
    },
  };
}

export function uncordonStep(node: string): ListrTask<UpgradeContext> {
  return {
    title: `Uncordon ${node}`,
    task: async (ctx, task) => {
      if (alreadyDone(ctx, node, "uncordoned", task, `Uncordon ${node}`)) return;
      const name = liveName(ctx.state, node);
      const live = await ctx.kube.get(named(Kinds.Node, name));
      ctx.stats.reads++;
      if (!live) {
        throw new OperationError(`Node ${name} does not exist any more.`, {
          hint: "List the nodes (`kubectl get nodes`) and check the nodegroup; then run again with --resume.",
        });
      }
      await setUnschedulable(ctx.kube, name, false, { signal: ctx.options.signal, stats: ctx.stats });
      await advance(ctx, node, "uncordoned");
      await markNode(ctx, name, false);
      ctx.detail = name === node ? `${node} is schedulable` : `replacement ${name} of ${node} is schedulable`;
      task.title = name === node ? `Uncordoned ${node}` : `Uncordoned ${name} (the replacement of ${node})`;
    },
  };
}
