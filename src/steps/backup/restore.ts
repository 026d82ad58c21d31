/**
 * Steps of `backup restore`, in the only safe order: verify the archive (refuse it if it does not
 * verify), stop writes (scale the registry to 0 and wait until no replica runs), restore with a Job,
 * start the registry again with its previous replica count, run the health checks. With --to-claim only
 * the verify and the Job run: the live registry is never touched. Each step records where the restore
 * is, so a failure can say exactly what state it left.
 */
import type { V1Deployment, V1PersistentVolumeClaimSpec, V1Pod } from "@kubernetes/client-node";
import type { ListrTask } from "listr2";
import type { Kube } from "../../adapters/kube.js";
import { waitUntil } from "../../adapters/kube-watch.js";
import { scaleDeployment } from "../../adapters/kube-workload.js";
import { parseRestoreResult, type RestoreResult } from "../../core/backup/job-log.js";
import { backupNames } from "../../core/backup/render.js";
import {
  REPLICAS_BEFORE_RESTORE,
  type RestorePhase,
  type RestoreTarget,
} from "../../core/backup/restore-plan.js";
import { evaluateHealth, type HealthReport } from "../../core/health/evaluate.js";
import { isRolledOut } from "../../core/health/rollout.js";
import { names } from "../../core/render/names.js";
import type { KubeObject } from "../../core/render/types.js";
import { OperationError } from "../../errors.js";
import { gatherSnapshot } from "../health/gather.js";
import { createJob, failureDetails, type JobOutcome, watchJobToEnd } from "./job.js";
import { type VerifyContext, verifyArchiveTask } from "./verify.js";

export interface RestoreContext extends VerifyContext {
  kube: Kube;
  namespace: string;
  target: RestoreTarget;
  /** The restore Job (renderRestoreJob). */
  job: KubeObject;
  /** --to-claim NAME that does not exist yet, created with --storage-class. */
  newClaim?: KubeObject;
  /** False when no registry Deployment exists: nothing to stop or start. */
  deploymentExists: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  phase: RestorePhase;
  done: Set<RestorePhase>;
  outcome?: JobOutcome;
  result?: RestoreResult;
  health?: HealthReport;
  warnings: string[];
}

/** Records the phase a task works in, and (unless it only prepares the phase) that it finished. */
function phased(
  phase: RestorePhase,
  task: ListrTask<RestoreContext>,
  options: { completes: boolean } = { completes: true },
): ListrTask<RestoreContext> {
  const run = task.task;
  return {
    ...task,
    task: async (ctx, wrapper) => {
      ctx.phase = phase;
      const result = await run(ctx, wrapper);
      if (options.completes) ctx.done.add(phase);
      return result;
    },
  };
}

const skipLiveRegistry = (ctx: RestoreContext): string | false =>
  ctx.target.toClaim
    ? `restoring into claim ${ctx.target.toClaim}: the live registry keeps running`
    : !ctx.deploymentExists
      ? `no deployment ${names.deployment} in ${ctx.namespace}`
      : false;

function stopWritesTask(): ListrTask<RestoreContext> {
  return {
    title: "Stop writes: scale the registry to 0",
    skip: skipLiveRegistry,
    task: async (ctx, task) => {
      const { kube, namespace, target } = ctx;
      await scaleDeployment(kube, namespace, names.deployment, 0, {
        [REPLICAS_BEFORE_RESTORE]: String(target.replicas),
      });
      await waitUntil<V1Pod>(
        kube,
        { apiVersion: "v1", kind: "Pod", namespace, labelSelector: names.registryPodSelector },
        (pods) => pods.length === 0,
        {
          timeoutMs: ctx.timeoutMs,
          signal: ctx.signal,
          onChange: (pods) => {
            task.output = `${pods.length} replica(s) still running or terminating`;
          },
          explainTimeout: (pods) => `${pods.map((p) => p.metadata?.name).join(", ")} did not stop`,
        },
      );
      task.title = `Writes stopped: deployment ${names.deployment} scaled from ${target.replicas} to 0, no replica runs`;
    },
  };
}

function restoreJobTask(): ListrTask<RestoreContext> {
  return {
    title: "Restore the archive with a Job",
    task: async (ctx, task) => {
      const name = ctx.job.metadata.name;
      await createJob(ctx.kube, ctx.job);
      task.output = `Job ${name} created`;
      const outcome = await watchJobToEnd(ctx.kube, ctx.namespace, name, backupNames.restoreContainer, {
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
        task,
      });
      ctx.outcome = outcome;
      if (outcome.state === "failed") {
        throw new OperationError(`The restore Job ${name} failed`, { details: failureDetails(outcome) });
      }
      ctx.result = parseRestoreResult(outcome.log);
      if (!ctx.result) {
        ctx.warnings.push(
          `the restore Job completed but its log holds no "clouddrove-restore key=..." line; see kubectl -n ${ctx.namespace} logs job/${name}`,
        );
      }
      const claim = ctx.target.toClaim ?? backupNames.claim;
      task.title = `Restored ${ctx.target.key} into claim ${claim}${ctx.result ? `: ${ctx.result.repositories} repositories, ${ctx.result.tags} tags` : ""}`;
    },
  };
}

function startRegistryTask(): ListrTask<RestoreContext> {
  return {
    title: "Start the registry again",
    skip: skipLiveRegistry,
    task: async (ctx, task) => {
      const { kube, namespace, target } = ctx;
      await scaleDeployment(kube, namespace, names.deployment, target.replicas, {
        [REPLICAS_BEFORE_RESTORE]: null,
      });
      await waitUntil<V1Deployment>(
        kube,
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          namespace,
          fieldSelector: `metadata.name=${names.deployment}`,
        },
        ([d]) => isRolledOut(d, target.replicas),
        {
          timeoutMs: ctx.timeoutMs,
          signal: ctx.signal,
          onChange: ([d]) => {
            task.output = `replicas ready ${d?.status?.readyReplicas ?? 0}/${target.replicas}`;
          },
          explainTimeout: ([d]) => `${d?.status?.readyReplicas ?? 0}/${target.replicas} replicas ready`,
        },
      );
      task.title = `Registry started: ${target.replicas}/${target.replicas} replicas ready`;
    },
  };
}

function healthTask(): ListrTask<RestoreContext> {
  return {
    title: "Run the health checks",
    skip: skipLiveRegistry,
    task: async (ctx, task) => {
      const snapshot = await gatherSnapshot(ctx.kube, ctx.namespace);
      // Failed pods of earlier backup or restore Jobs stay for their logs; they say nothing about the
      // registry that was just restored, so they are named as warnings instead of failing the check.
      const isBackupPod = (pod: V1Pod) => pod.metadata?.labels?.["app.kubernetes.io/component"] === "backup";
      for (const pod of (snapshot.troubledPods ?? []).filter(isBackupPod)) {
        const job = pod.metadata?.labels?.["job-name"];
        ctx.warnings.push(
          `pod ${pod.metadata?.name} of an earlier Job is ${pod.status?.phase ?? "not running"} (kept for its log${job ? `; kubectl -n ${ctx.namespace} delete job ${job} removes it` : ""})`,
        );
      }
      snapshot.troubledPods = (snapshot.troubledPods ?? []).filter((pod) => !isBackupPod(pod));
      const report = evaluateHealth(snapshot, {
        replicas: ctx.target.replicas,
        networkPolicies: [names.networkPolicies.defaultDeny, names.networkPolicies.registryIngress],
        requireLoadBalancer: true,
      });
      ctx.health = report;
      if (!report.healthy) {
        throw new OperationError("The registry is not healthy after the restore", {
          details: report.problems,
        });
      }
      task.title = `Healthy: ${report.registry.ready}/${ctx.target.replicas} replicas ready`;
    },
  };
}

/** --to-claim with --storage-class: the claim is created before the Job that mounts it. */
function createClaimTask(): ListrTask<RestoreContext> {
  return {
    title: "Create the claim to restore into",
    skip: (ctx) => (ctx.newClaim ? false : "the claim exists"),
    task: async (ctx, task) => {
      const claim = ctx.newClaim as KubeObject;
      await ctx.kube.apply(claim);
      task.title = `Created claim ${claim.metadata.name} (StorageClass ${(claim.spec as V1PersistentVolumeClaimSpec).storageClassName})`;
    },
  };
}

export function restoreTasks(): ListrTask<RestoreContext>[] {
  return [
    phased("verify", verifyArchiveTask<RestoreContext>({ refuse: true })),
    phased("restore", createClaimTask(), { completes: false }),
    phased("stop", stopWritesTask()),
    phased("restore", restoreJobTask()),
    phased("start", startRegistryTask()),
    phased("health", healthTask()),
  ];
}

/** Where the restore stands for a failure report: a finished step means the state before the next one. */
export function effectivePhase(ctx: Pick<RestoreContext, "phase" | "done">): RestorePhase {
  if (!ctx.done.has(ctx.phase)) return ctx.phase;
  const after: Record<RestorePhase, RestorePhase> = {
    verify: "verify",
    stop: "stop",
    restore: "restored",
    restored: "restored",
    start: "health",
    health: "health",
  };
  return after[ctx.phase];
}
