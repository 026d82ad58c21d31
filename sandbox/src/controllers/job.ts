/**
 * The Job controller: runs pods until `completions` succeeded (`parallelism` at a time), replaces
 * failed ones with exponential back-off until `backoffLimit` is exceeded, enforces
 * activeDeadlineSeconds, and sets the terminal conditions (SuccessCriteriaMet + Complete, or
 * FailureTarget + Failed). Finished Jobs with ttlSecondsAfterFinished are deleted when it expires.
 * How long a pod runs and whether it fails is steered by the sandbox annotations (see pod-runs.ts).
 */
import type { KubeObject, WatchEvent } from "../types.js";
import { SandboxAnnotations } from "./pod-runs.js";
import { isPodActive, isPodReady, ownedBy, restartCount } from "./pods.js";
import { podFromTemplate } from "./replicaset.js";
import {
  type Condition,
  type ControllerContext,
  createWithGeneratedName,
  deleteQuietly,
  keyOf,
  parseTime,
  patchStatus,
  setCondition,
  splitKey,
  timestamp,
  WorkQueue,
} from "./runtime.js";

const SOURCE = "job-controller";
const MAX_BACKOFF_MS = 6 * 60 * 1000;

export function jobFinished(job: KubeObject): "Complete" | "Failed" | undefined {
  for (const c of (job.status?.conditions ?? []) as Condition[]) {
    if ((c.type === "Complete" || c.type === "Failed") && c.status === "True") return c.type;
  }
  return undefined;
}

export function startJobController(ctx: ControllerContext): void {
  const { store, clock } = ctx;
  const queue = new WorkQueue(ctx, "job", sync);

  function finish(
    job: KubeObject,
    active: KubeObject[],
    type: "Complete" | "Failed",
    reason: string,
    message: string,
  ): void {
    const now = clock.now();
    for (const pod of active) {
      deleteQuietly(ctx, "Pod", pod.metadata.namespace, pod.metadata.name);
      ctx.events.normal(job, "SuccessfulDelete", `Deleted pod: ${pod.metadata.name}`, SOURCE);
    }
    patchStatus(ctx, "Job", job.metadata.namespace, job.metadata.name, (next) => {
      const interim = type === "Complete" ? "SuccessCriteriaMet" : "FailureTarget";
      let conditions = setCondition(
        next.status?.conditions,
        { type: interim, status: "True", reason, message, lastProbeTime: timestamp(now) },
        now,
      );
      conditions = setCondition(
        conditions,
        { type, status: "True", reason, message, lastProbeTime: timestamp(now) },
        now,
      );
      next.status = { ...next.status, conditions, active: 0, ready: 0 };
      if (type === "Complete") next.status.completionTime = timestamp(now);
      delete next.status.active;
    });
    if (type === "Complete") ctx.events.normal(job, "Completed", "Job completed", SOURCE);
    else ctx.events.warning(job, reason, message, SOURCE);
  }

  function sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const job = store.get("Job", namespace, name);
    if (job === undefined || job.metadata.deletionTimestamp) return;
    const now = clock.now();
    const pods = store.list("Pod", { namespace }).filter((p) => ownedBy(p, job));
    const active = pods.filter(isPodActive);
    const succeeded = pods.filter((p) => p.status?.phase === "Succeeded").length;
    const restartsOnFailure = job.spec?.template?.spec?.restartPolicy === "OnFailure";
    const failedPods = pods.filter((p) => p.status?.phase === "Failed");
    const failed =
      failedPods.length + (restartsOnFailure ? pods.reduce((n, p) => n + restartCount(p), 0) : 0);

    const finished = jobFinished(job);
    if (finished) {
      expireLater(job, now);
      return;
    }
    if (job.spec?.suspend) return;

    const startTime = parseTime(job.status?.startTime) ?? now;
    const completions: number = job.spec?.completions ?? 1;
    const parallelism: number = job.spec?.parallelism ?? 1;
    const backoffLimit: number = job.spec?.backoffLimit ?? 6;
    const deadline: number | undefined = job.spec?.activeDeadlineSeconds;

    const writeCounts = () =>
      patchStatus(ctx, "Job", namespace, name, (next) => {
        const current = store.list("Pod", { namespace }).filter((p) => ownedBy(p, job));
        const running = current.filter(isPodActive);
        next.status = {
          ...next.status,
          startTime: timestamp(startTime),
          active: running.length,
          ready: running.filter(isPodReady).length,
          terminating: current.filter((p) => p.metadata.deletionTimestamp).length,
          succeeded,
          failed,
          uncountedTerminatedPods: {},
        };
        for (const field of ["active", "succeeded", "failed"])
          if (next.status[field] === 0) delete next.status[field];
      });

    if (deadline !== undefined && startTime + deadline * 1000 <= now) {
      writeCounts();
      finish(job, active, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline");
      return;
    }
    if (failed > backoffLimit) {
      writeCounts();
      finish(job, active, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
      return;
    }
    if (succeeded >= completions) {
      writeCounts();
      finish(job, active, "Complete", "CompletionsReached", "Reached expected number of succeeded pods");
      return;
    }
    if (deadline !== undefined) queue.addAfter(key, startTime + deadline * 1000 - now);

    const wanted = Math.min(parallelism, completions - succeeded) - active.length;
    if (wanted > 0) {
      // After a failure, the next pod waits 10 s, doubling per failure, at most 6 minutes.
      const lastFailure = Math.max(0, ...failedPods.map((p) => latestFinish(p)));
      const delay = failed > 0 ? Math.min(10_000 * 2 ** (failed - 1), MAX_BACKOFF_MS) : 0;
      if (failed > 0 && lastFailure + delay > now) {
        queue.addAfter(key, lastFailure + delay - now);
      } else {
        for (let i = 0; i < wanted; i++) {
          const pod = createWithGeneratedName(ctx, `${job.metadata.name}-`, (podName) =>
            podFromTemplate(job, podName, {
              labels: {
                "batch.kubernetes.io/controller-uid": job.metadata.uid ?? "",
                "batch.kubernetes.io/job-name": job.metadata.name,
                "controller-uid": job.metadata.uid ?? "",
                "job-name": job.metadata.name,
              },
              annotations: { [SandboxAnnotations.attempt]: String(failed + i) },
            }),
          );
          ctx.events.normal(job, "SuccessfulCreate", `Created pod: ${pod.metadata.name}`, SOURCE);
        }
      }
    }
    writeCounts();
  }

  function latestFinish(pod: KubeObject): number {
    let latest = 0;
    for (const status of pod.status?.containerStatuses ?? []) {
      latest = Math.max(latest, parseTime(status.state?.terminated?.finishedAt) ?? 0);
    }
    return latest || (parseTime(pod.metadata.creationTimestamp) ?? 0);
  }

  /** ttlSecondsAfterFinished: the TTL-after-finished controller deletes the Job (and its pods). */
  function expireLater(job: KubeObject, now: number): void {
    const ttl: number | undefined = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined) return;
    const finishedAt = Math.max(
      ...((job.status?.conditions ?? []) as Condition[])
        .filter((c) => c.type === "Complete" || c.type === "Failed")
        .map((c) => parseTime(c.lastTransitionTime) ?? now),
    );
    const due = finishedAt + ttl * 1000;
    if (due <= now)
      deleteQuietly(ctx, "Job", job.metadata.namespace, job.metadata.name, {
        propagationPolicy: "Foreground",
      });
    else queue.addAfter(keyOf(job), due - now);
  }

  const onJob = (event: WatchEvent) => {
    if (event.type !== "DELETED") queue.add(keyOf(event.object));
  };
  const onPod = (event: WatchEvent) => {
    const owner = (event.object.metadata.ownerReferences ?? []).find((o) => o.controller && o.kind === "Job");
    if (owner) queue.add(`${event.object.metadata.namespace}/${owner.name}`);
  };
  ctx.cleanups.push(store.subscribe("Job", onJob), store.subscribe("Pod", onPod));
  for (const job of store.list("Job")) queue.add(keyOf(job));
}
