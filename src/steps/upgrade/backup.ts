/**
 * Step: before the registry's major upgrade (forward-only), an archive of its data, taken exactly as
 * `clouddrove backup now` takes one (steps/backup/job.ts): a Job made from the backup CronJob's template,
 * watched to the end, archive.sh's result line read from its log. When backups are not configured there is
 * no CronJob: the upgrade goes on and says clearly that no backup was taken.
 */
import type { ListrTask } from "listr2";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { parseArchiveResult, timestampedName } from "../../core/backup/job-log.js";
import { backupNames, jobFromCronJob } from "../../core/backup/render.js";
import { majorOf } from "../../core/registry/image.js";
import { OperationError } from "../../errors.js";
import { createJob, failureDetails, watchJobToEnd } from "../backup/job.js";
import type { UpgradeContext } from "./context.js";

/** Is this run a major registry upgrade (the one that is forward-only)? */
export function isMajorRegistryUpgrade(ctx: UpgradeContext): boolean {
  const previous = ctx.state.registry?.previousImage;
  const from = majorOf(previous?.replace(/^.*:/, ""));
  const to = majorOf(ctx.state.targets.registryVersion);
  return to !== undefined && (from === undefined || to > from);
}

export function backupStep(): ListrTask<UpgradeContext> {
  return {
    title: "Back up the registry before the major upgrade",
    task: async (ctx, task) => {
      if (ctx.options.skipBackup) {
        const why = "no backup was taken (--skip-backup): the registry upgrade is forward-only";
        ctx.warnings.push(why);
        ctx.skipped = why;
        task.skip("Backup skipped (--skip-backup)");
        return;
      }
      if (ctx.state.backup) {
        ctx.skipped = `taken earlier in this upgrade: ${ctx.state.backup}`;
        task.skip(`Backup: ${ctx.state.backup} (taken earlier in this upgrade)`);
        return;
      }
      const cronJob = await ctx.kube.get(named(Kinds.CronJob, backupNames.cronJob, ctx.namespace));
      ctx.stats.reads++;
      if (!cronJob) {
        const why = `no backup was taken: backups are not configured (no CronJob ${backupNames.cronJob} in namespace ${ctx.namespace}${ctx.config.backup.bucket ? "; backup.bucket is set, so run `clouddrove deploy` to create it" : "; set backup.bucket and run `clouddrove deploy`"}). The registry upgrade is forward-only.`;
        ctx.warnings.push(why);
        ctx.skipped = why;
        task.skip("Backup: not configured (no backup CronJob) — no backup taken");
        return;
      }
      const name = timestampedName(`${backupNames.cronJob}-upgrade`, new Date());
      await createJob(ctx.kube, jobFromCronJob(cronJob, name));
      ctx.stats.patches++;
      task.output = `Job ${name} started from CronJob ${backupNames.cronJob}`;
      const outcome = await watchJobToEnd(ctx.kube, ctx.namespace, name, backupNames.archiveContainer, {
        timeoutMs: ctx.options.backupTimeoutMs,
        signal: ctx.options.signal,
        task,
      });
      if (outcome.state === "failed") {
        throw new OperationError(
          `The backup Job ${name} failed; the upgrade stopped before changing anything.`,
          {
            details: failureDetails(outcome),
            hint: `Read the log: kubectl -n ${ctx.namespace} logs job/${name}. Fix the cause and run again, or pass --skip-backup to upgrade without a backup.`,
          },
        );
      }
      const archive = parseArchiveResult(outcome.log);
      ctx.state.backup = archive ? `Job ${name}: ${archive.key} (${archive.bytes} bytes)` : `Job ${name}`;
      ctx.detail = `${ctx.state.backup} completed`;
      task.title = `Backed up the registry: ${ctx.detail}`;
    },
  };
}
