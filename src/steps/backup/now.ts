/**
 * Steps of `backup now`: start a Job from the backup CronJob's template (as `kubectl create job
 * --from=cronjob/...` does), watch it to the end, and read archive.sh's result line from its pod's log.
 * A failed Job is an error that carries the pod's last log lines.
 */
import type { ListrTask } from "listr2";
import type { Kube } from "../../adapters/kube.js";
import { type BackupResult, parseArchiveResult } from "../../core/backup/job-log.js";
import { backupNames } from "../../core/backup/render.js";
import type { KubeObject } from "../../core/render/types.js";
import { OperationError } from "../../errors.js";
import { createJob, failureDetails, type JobOutcome, watchJobToEnd } from "./job.js";

export interface BackupNowContext {
  kube: Kube;
  namespace: string;
  /** The Job to create (jobFromCronJob). */
  job: KubeObject;
  timeoutMs: number;
  signal?: AbortSignal;
  outcome?: JobOutcome;
  result?: BackupResult;
  warnings: string[];
}

export function backupNowTasks(): ListrTask<BackupNowContext>[] {
  return [
    {
      title: "Start the backup Job",
      task: async (ctx, task) => {
        await createJob(ctx.kube, ctx.job);
        task.title = `Started Job ${ctx.job.metadata.name} from CronJob ${backupNames.cronJob}`;
      },
    },
    {
      title: "Wait for the backup Job to finish",
      task: async (ctx, task) => {
        const name = ctx.job.metadata.name;
        const outcome = await watchJobToEnd(ctx.kube, ctx.namespace, name, backupNames.archiveContainer, {
          timeoutMs: ctx.timeoutMs,
          signal: ctx.signal,
          task,
        });
        ctx.outcome = outcome;
        if (outcome.state === "failed") {
          throw new OperationError(`The backup Job ${name} failed; no new archive was written`, {
            details: failureDetails(outcome),
            hint: `Read the whole log: kubectl -n ${ctx.namespace} logs job/${name} (the Job is kept for it). Fix the cause and run clouddrove backup now again.`,
          });
        }
        ctx.result = parseArchiveResult(outcome.log);
        if (!ctx.result) {
          ctx.warnings.push(
            `the Job completed but its log holds no "clouddrove-backup key=..." line; see kubectl -n ${ctx.namespace} logs job/${name}`,
          );
        }
        task.title = `Job ${name} completed`;
      },
    },
  ];
}
