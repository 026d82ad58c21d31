/**
 * The steps of `upgrade`, in order: preflight and rehearsal of the first node (a dry run stops after the
 * rehearsal of every node), the check image, the backup before a major registry upgrade, then per node
 * cordon, drain, bump, uncordon and the health gate — the next node's preflight only after the previous
 * node's gate passed.
 */
import type { ListrTask } from "listr2";
import { CHECK_TAGS_KEPT } from "../../core/upgrade/check-tags.js";
import { backupStep, isMajorRegistryUpgrade } from "./backup.js";
import { bumpStep } from "./bump.js";
import type { UpgradeContext } from "./context.js";
import { healthStep } from "./health.js";
import { cordonStep, drainStep, uncordonStep } from "./node-steps.js";
import { preflightStep } from "./preflight.js";
import { pruneCheckTags, pushCheckImage } from "./registry-access.js";
import { recordOutcomeStep, saveState } from "./state-store.js";

function checkImageStep(): ListrTask<UpgradeContext> {
  return {
    title: "Push a check image to pull after every node",
    task: async (ctx, task) => {
      if (!ctx.state.registryCheck) {
        ctx.skipped =
          "--no-registry-check: the registry itself is not checked (no push before, no pull after)";
        task.skip("Check image: skipped (--no-registry-check)");
        return;
      }
      if (ctx.state.checkImage) {
        ctx.skipped = `pushed earlier in this upgrade (${ctx.state.checkImage.tag})`;
        task.skip(
          `Check image: ${ctx.state.checkImage.repository}:${ctx.state.checkImage.tag} (pushed earlier)`,
        );
        return;
      }
      ctx.state.checkImage = await pushCheckImage(ctx);
      await saveState(ctx);
      ctx.detail = `${ctx.state.checkImage.repository}:${ctx.state.checkImage.tag} (${ctx.state.checkImage.manifestDigest})`;
      task.title = `Pushed check image ${ctx.detail}`;
    },
  };
}

/** After the last health gate: the check images of earlier runs go, the newest few stay. */
function pruneCheckTagsStep(): ListrTask<UpgradeContext> {
  return {
    title: "Remove old check images",
    task: async (ctx, task) => {
      if (!ctx.state.checkImage) {
        ctx.skipped = "no check image was pushed (--no-registry-check)";
        task.skip("Old check images: none pushed");
        return;
      }
      try {
        const removed = await pruneCheckTags(ctx, CHECK_TAGS_KEPT);
        ctx.detail = removed.length === 0 ? "none to remove" : `removed ${removed.join(", ")}`;
        task.title = `Old check images: ${ctx.detail} (the newest ${CHECK_TAGS_KEPT} kept)`;
      } catch (error) {
        // The upgrade itself is done and healthy: a check image left over only takes a little space.
        ctx.warnings.push(`old check images could not be removed: ${(error as Error).message}`);
        ctx.detail = "not removed (see the warnings)";
      }
    },
  };
}

function finishStep(): ListrTask<UpgradeContext> {
  return recordOutcomeStep("Record the upgrade as completed", "completed", (ctx) => ({
    detail: `${ctx.state.nodes.length} node(s) upgraded`,
    title: "Upgrade completed",
  }));
}

export function upgradeTasks(ctx: UpgradeContext): ListrTask<UpgradeContext>[] {
  const [first, ...rest] = ctx.state.nodes;
  if (first === undefined) return [];
  if (ctx.options.dryRun) return ctx.state.nodes.map((node) => preflightStep(node));
  const tasks: ListrTask<UpgradeContext>[] = [preflightStep(first), checkImageStep()];
  if (ctx.state.targets.registryVersion && isMajorRegistryUpgrade(ctx)) tasks.push(backupStep());
  for (const node of [first, ...rest]) {
    if (node !== first) tasks.push(preflightStep(node));
    tasks.push(cordonStep(node), drainStep(node), bumpStep(node), uncordonStep(node), healthStep(node));
  }
  tasks.push(pruneCheckTagsStep(), finishStep());
  return tasks;
}
