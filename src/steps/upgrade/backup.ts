/**
 * Step: before the registry's major upgrade (forward-only), an archive of its data, taken the way
 * `clouddrove backup now` takes one: a Job made from the backup CronJob's template (what `kubectl create
 * job --from=cronjob/...` does), watched until it completes. When backups are not configured there is no
 * CronJob: the upgrade goes on and says clearly that no backup was taken.
 */
import type { ListrTask } from "listr2";
import { waitUntil } from "../../adapters/kube-watch.js";
import { backupNames, jobFromCronJob } from "../../core/backup/render.js";
import type { Obj } from "../../core/health/snapshot.js";
import type { KubeObject } from "../../core/render/types.js";
import { majorOf } from "../../core/upgrade/targets.js";
import { OperationError } from "../../errors.js";
import type { UpgradeContext } from "./context.js";

/** Is this run a major registry upgrade (the one that is forward-only)? */
export function isMajorRegistryUpgrade(ctx: UpgradeContext): boolean {
  const previous = ctx.state.registry?.previousImage;
  const from = majorOf(previous?.replace(/^.*:/, ""));
  const to = majorOf(ctx.state.targets.registryVersion);
  return to !== undefined && (from === undefined || to > from);
}

const condition = (job: Obj | undefined, type: string) =>
  ((job?.status?.conditions ?? []) as Obj[]).find((c) => c.type === type && c.status === "True");

export function backupStep(): ListrTask<UpgradeContext> {
  return {
    title: "Back up the registry before the major upgrade",
    task: async (ctx, task) => {
      if (ctx.options.skipBackup) {
        const why = "no backup was taken (--skip-backup): the registry upgrade is forward-only";
        ctx.warnings.push(why);
        ctx.skipped = why;
        task.skip(`Backup skipped (--skip-backup)`);
        return;
      }
      if (ctx.state.backup) {
        ctx.skipped = `taken earlier in this upgrade: ${ctx.state.backup}`;
        task.skip(`Backup: ${ctx.state.backup} (taken earlier in this upgrade)`);
        return;
      }
      const cronJob = (await ctx.kube.get("batch/v1", "CronJob", backupNames.cronJob, ctx.namespace)) as
        | KubeObject
        | undefined;
      ctx.stats.reads++;
      if (!cronJob) {
        const why = `no backup was taken: backups are not configured (no CronJob ${backupNames.cronJob} in namespace ${ctx.namespace}${ctx.config.backup.bucket ? "; backup.bucket is set, so run `clouddrove deploy` to create it" : "; set backup.bucket and run `clouddrove deploy`"}). The registry upgrade is forward-only.`;
        ctx.warnings.push(why);
        ctx.skipped = why;
        task.skip("Backup: not configured (no backup CronJob) — no backup taken");
        return;
      }
      const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
      const name = `${backupNames.cronJob}-upgrade-${stamp}`;
      await ctx.kube.apply(jobFromCronJob(cronJob, name) as never);
      ctx.stats.patches++;
      task.output = `Job ${name} started from CronJob ${backupNames.cronJob}`;
      const [job] = await waitUntil<Obj & { metadata: Obj }>(
        ctx.kube,
        {
          apiVersion: "batch/v1",
          kind: "Job",
          namespace: ctx.namespace,
          fieldSelector: `metadata.name=${name}`,
        },
        ([j]) => Boolean(condition(j, "Complete") || condition(j, "Failed")),
        {
          timeoutMs: ctx.options.backupTimeoutMs,
          signal: ctx.options.signal,
          stats: ctx.stats,
          onChange: ([j]) => {
            task.output = `Job ${name}: ${j?.status?.active ?? 0} running, ${j?.status?.failed ?? 0} failed attempt(s)`;
          },
          explainTimeout: () =>
            `backup Job ${name} has not finished (kubectl -n ${ctx.namespace} logs job/${name})`,
        },
      );
      if (condition(job, "Failed")) {
        throw new OperationError(
          `The backup Job ${name} failed; the upgrade stopped before changing anything.`,
          {
            hint: `See why: \`kubectl -n ${ctx.namespace} logs job/${name}\`. Fix it and run again, or pass --skip-backup to upgrade without a backup.`,
          },
        );
      }
      ctx.state.backup = `Job ${name}`;
      ctx.detail = `Job ${name} completed`;
      task.title = `Backed up the registry: Job ${name} completed`;
    },
  };
}
