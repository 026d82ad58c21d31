/**
 * The garbage-collection Job: an earlier one still running (a run interrupted while its Job went on) is
 * waited for first, since two sweeps at once would race, and so is a backup Job of the CronJob (which
 * runs on its schedule without the lock: a blob swept while it copies would be missing from its
 * snapshot); then this run's Job is created, watched to its end, and its log read (the whole log: the
 * plan's lines are near its start).
 */
import type { V1Job } from "@kubernetes/client-node";
import { Kinds } from "../../adapters/kube-kinds.js";
import { podLogTail } from "../../adapters/kube-workload.js";
import { parseGcLog } from "../../core/gc/job-log.js";
import { gcNames } from "../../core/gc/render.js";
import type { KubeObject } from "../../core/render/types.js";
import { OperationError } from "../../errors.js";
import { createJob, failureDetails, jobState, waitForJob, watchJobToEnd } from "../backup/job.js";
import type { GcContext } from "./context.js";

/** Lines of the Job's log read: enough for the plan of a large store (one line per blob and manifest). */
const LOG_LINES = 1_000_000;

type Task = { output: string; title: string };

/** Jobs with these labels that are still running. */
async function runningJobs(
  ctx: Pick<GcContext, "kube" | "namespace">,
  labelSelector: string,
): Promise<string[]> {
  const jobs = await ctx.kube.list(Kinds.Job, { namespace: ctx.namespace, labelSelector });
  return jobs.filter((job) => jobState(job) === "running").map((job) => job.metadata?.name as string);
}

/** gc Jobs of earlier runs that are still running. */
export function runningGcJobs(ctx: Pick<GcContext, "kube" | "namespace">): Promise<string[]> {
  return runningJobs(ctx, gcNames.selector);
}

/** The backup CronJob's Jobs (and `backup now`'s) that are still running. */
const BACKUP_JOBS = "app.kubernetes.io/instance=clouddrove,app.kubernetes.io/component=backup";

export async function runGcJob(ctx: GcContext, task: Task): Promise<void> {
  const job = ctx.job as V1Job;
  const name = job.metadata?.name as string;
  for (const earlier of [...(await runningGcJobs(ctx)), ...(await runningJobs(ctx, BACKUP_JOBS))]) {
    task.output = `waiting for Job ${earlier} to finish first`;
    ctx.warnings.push(`waited for Job ${earlier} to finish before collecting`);
    await waitForJob(ctx.kube, ctx.namespace, earlier, { timeoutMs: ctx.jobTimeoutMs, signal: ctx.signal });
  }
  await createJob(ctx.kube, job as KubeObject);
  const outcome = await watchJobToEnd(ctx.kube, ctx.namespace, name, gcNames.container, {
    timeoutMs: ctx.jobTimeoutMs,
    signal: ctx.signal,
    task,
  });
  if (outcome.pod) {
    outcome.log = await podLogTail(ctx.kube, ctx.namespace, outcome.pod, gcNames.container, LOG_LINES);
  }
  ctx.outcome = outcome;
  ctx.log = parseGcLog(outcome.log);
  if (outcome.state === "failed" || !ctx.log.plan || ctx.log.plan.exit !== 0) {
    throw new OperationError(`The garbage collection Job ${name} failed`, {
      details: failureDetails(outcome),
      hint: `Read its log: kubectl -n ${ctx.namespace} logs job/${name} (the Job is kept a week). Blobs it deleted were unreferenced; run clouddrove gc again once the cause is fixed.`,
    });
  }
  for (const problem of ctx.log.problems) ctx.warnings.push(problem);
  if (ctx.log.check && ctx.log.check.blobs > 0) {
    ctx.warnings.push(
      `${ctx.log.check.blobs} blob(s) were still eligible after the sweep (see the Job's log)`,
    );
  }
}
