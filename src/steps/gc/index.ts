/**
 * The steps of `clouddrove gc`: read-only, proof, the Job, writable again, health. A dry run skips the
 * switches and the proof: its Job only reads (the claim mounted read-only), so pushes go on meanwhile and
 * its counts are those of the moment.
 */
import type { ListrTask } from "listr2";
import { evaluateHealth } from "../../core/health/evaluate.js";
import { OperationError } from "../../errors.js";
import { gatherSnapshot } from "../health/gather.js";
import type { GcContext } from "./context.js";
import { proveReadOnly } from "./prove.js";
import { runGcJob } from "./run-job.js";
import { switchToReadOnly, switchToWritable } from "./switch.js";

export type { GcContext } from "./context.js";
export { runningGcJobs } from "./run-job.js";

export function readOnlyTask(): ListrTask<GcContext> {
  return {
    title: "Switch every replica to read-only",
    skip: (ctx) => ctx.dryRun,
    task: async (ctx, task) => {
      await switchToReadOnly(ctx, task);
      task.title = `Every replica is read-only (fewest ready while rolling: ${ctx.minimumReady ?? ctx.replicas})`;
    },
  };
}

export function proveTask(): ListrTask<GcContext> {
  return {
    title: "Check pulls and refused pushes on every ready replica",
    skip: (ctx) => ctx.dryRun,
    task: async (ctx, task) => {
      ctx.proofs = await proveReadOnly(ctx);
      task.title = `${ctx.proofs.length} replicas pull and refuse pushes (${ctx.proofs[0]?.push.status})`;
    },
  };
}

export function jobTask(): ListrTask<GcContext> {
  return {
    title: "Run registry garbage-collect in a Job",
    task: async (ctx, task) => {
      await runGcJob(ctx, task);
      task.title = `Job ${ctx.job?.metadata?.name} completed`;
    },
  };
}

export function writableTask(): ListrTask<GcContext> {
  return {
    title: "Switch every replica back to writable",
    skip: (ctx) => !ctx.readOnly,
    task: async (ctx, task) => {
      await switchToWritable(ctx, task);
      task.title = `Every replica is writable again (fewest ready while rolling: ${ctx.minimumReady ?? ctx.replicas})`;
    },
  };
}

export function healthTask(): ListrTask<GcContext> {
  return {
    title: "Check the registry's health",
    task: async (ctx, task) => {
      const snapshot = await gatherSnapshot(ctx.kube, ctx.namespace);
      const report = evaluateHealth(snapshot, {
        replicas: ctx.replicas,
        networkPolicies: [],
        requireLoadBalancer: false,
      });
      ctx.healthy = report.healthy;
      if (!report.healthy) {
        throw new OperationError("The registry is not healthy after garbage collection.", {
          details: report.problems,
          hint: "clouddrove status shows what is wrong.",
        });
      }
      task.title = "The registry is healthy";
    },
  };
}

export function gcTasks(): ListrTask<GcContext>[] {
  return [readOnlyTask(), proveTask(), jobTask(), writableTask(), healthTask()];
}

/** After a failure: the steps that make the registry writable again and check it. */
export function recoveryTasks(): ListrTask<GcContext>[] {
  return [writableTask(), healthTask()];
}
