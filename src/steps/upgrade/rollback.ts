/**
 * `upgrade --rollback`: undo an unfinished (or just finished) upgrade as far as it can be undone. The
 * registry goes back to its previous image and config only when the new version wrote no data (see
 * core/upgrade/rollback-rule.ts for how that is decided); cordoned nodes are uncordoned; a node's
 * Kubernetes version stays (EKS nodegroups are not downgraded) and a user's upgrade command is not undone.
 */
import type { ListrTask } from "listr2";
import { setUnschedulable } from "../../adapters/drain.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { forApply } from "../../core/deploy/objects.js";
import { rollbackVerdict } from "../../core/upgrade/rollback-rule.js";
import { liveName, reached } from "../../core/upgrade/state.js";
import { OperationError } from "../../errors.js";
import type { UpgradeContext } from "./context.js";
import { runHealthGate } from "./health.js";
import { registryFingerprint } from "./registry-access.js";
import { markNode, recordOutcomeStep, saveState } from "./state-store.js";

function registryStep(ignoreNewData: boolean): ListrTask<UpgradeContext> {
  return {
    title: "Restore the registry's previous version",
    task: async (ctx, task) => {
      const registry = ctx.state.registry;
      if (!registry?.bumpedAt) {
        ctx.skipped = "the new registry version was never applied";
        task.skip("Registry: the new version was never applied, nothing to restore");
        return;
      }
      if (!ctx.previous.deployment || ctx.previous.config === undefined) {
        throw new OperationError(
          "The upgrade record has no copy of the registry's previous Deployment and config.",
          {
            hint: "Restore by hand (kubectl rollout undo deployment/registry-clouddrove and the ConfigMap), or run `clouddrove deploy` with the previous registry.version.",
          },
        );
      }
      task.output = "reading the registry's repositories and tags";
      const now = await registryFingerprint(ctx);
      const verdict = rollbackVerdict({
        bumped: true,
        before: registry.fingerprint,
        beforeNote: registry.fingerprintNote,
        now: now.fingerprint,
        nowNote: now.note,
        ignoreNewData,
      });
      if (!verdict.allowed) {
        throw new OperationError(
          `The registry cannot go back to ${registry.previousImage}: ${verdict.reason}.`,
          {
            hint: `Nothing was restored. If you know the new version wrote nothing that matters, run again with ${verdict.override}; otherwise stay forward (fix and --resume).`,
          },
        );
      }
      const { names } = await import("../../core/render/names.js");
      const configMap = await ctx.kube.get(named(Kinds.ConfigMap, names.configMap, ctx.namespace));
      if (configMap) {
        const restored = forApply(configMap, "v1", "ConfigMap");
        restored.data = { ...restored.data, [names.configMapKeys.registryConfig]: ctx.previous.config };
        await ctx.kube.apply(restored, { force: ctx.options.forceConflicts });
      }
      await ctx.kube.apply(ctx.previous.deployment, { force: ctx.options.forceConflicts });
      ctx.stats.patches += 2;
      registry.bumpedAt = undefined;
      for (const node of ctx.state.nodes) {
        if (
          reached(ctx.state.progress[node], "bumped") &&
          !ctx.state.targets.kubernetesVersion &&
          !ctx.state.targets.upgradeCommand
        ) {
          ctx.state.progress[node] = "drained";
        }
      }
      await saveState(ctx);
      ctx.detail = `${registry.targetImage} -> ${registry.previousImage}: ${verdict.reason}`;
      task.title = `Restored ${registry.previousImage} and its config (${verdict.reason})`;
    },
  };
}

function uncordonAll(): ListrTask<UpgradeContext> {
  return {
    title: "Uncordon the nodes the upgrade cordoned",
    task: async (ctx, task) => {
      const done: string[] = [];
      for (const node of ctx.state.nodes) {
        if (!reached(ctx.state.progress[node], "cordoned") || reached(ctx.state.progress[node], "uncordoned"))
          continue;
        const name = liveName(ctx.state, node);
        const live = await ctx.kube.get(named(Kinds.Node, name));
        ctx.stats.reads++;
        if (!live) continue;
        if (live.spec?.unschedulable)
          await setUnschedulable(ctx.kube, name, false, { signal: ctx.options.signal, stats: ctx.stats });
        await markNode(ctx, name, false);
        done.push(name);
      }
      ctx.detail = done.length ? `uncordoned ${done.join(", ")}` : "no node was left cordoned";
      task.title = done.length ? `Uncordoned ${done.join(", ")}` : "No node was left cordoned";
    },
  };
}

function gateStep(): ListrTask<UpgradeContext> {
  return {
    title: "Health gate after the rollback",
    task: async (ctx, task) => {
      ctx.detail = await runHealthGate(ctx, task, "the rollback");
      task.title = `Healthy after the rollback: ${ctx.detail}`;
    },
  };
}

function finishStep(): ListrTask<UpgradeContext> {
  return recordOutcomeStep("Record the rollback", "rolled-back", (ctx) => {
    const kept: string[] = [];
    if (ctx.state.targets.kubernetesVersion && Object.keys(ctx.state.replacements).length > 0) {
      kept.push(
        `the replaced node(s) keep Kubernetes ${ctx.state.targets.kubernetesVersion} (EKS does not downgrade a nodegroup)`,
      );
    }
    if (
      ctx.state.targets.upgradeCommand &&
      ctx.state.nodes.some((n) => reached(ctx.state.progress[n], "bumped"))
    ) {
      kept.push("what the upgrade command changed on the node is not undone");
    }
    for (const line of kept) ctx.warnings.push(line);
    return { detail: kept.join("; ") || "rolled back", title: "Rollback recorded" };
  });
}

export function rollbackTasks(options: { ignoreNewData: boolean }): ListrTask<UpgradeContext>[] {
  return [registryStep(options.ignoreNewData), uncordonAll(), gateStep(), finishStep()];
}
