/**
 * The CronJob controller (v2): creates a Job per scheduled time on the schedule's wall clock, honours
 * concurrencyPolicy (Allow, Forbid, Replace), startingDeadlineSeconds and the "too many missed start
 * times" rule, keeps status.active / lastScheduleTime / lastSuccessfulTime, and trims finished Jobs to
 * the history limits. Jobs a client creates from the template (owned by the CronJob) are its Jobs too.
 */
import type { KubeObject, WatchEvent } from "../types.js";
import { parseCron } from "./cron.js";
import { jobFinished } from "./job.js";
import { ownedBy } from "./pods.js";
import {
  type Condition,
  type ControllerContext,
  clone,
  deleteQuietly,
  keyOf,
  ownerReference,
  parseTime,
  patchStatus,
  splitKey,
  timestamp,
  WorkQueue,
} from "./runtime.js";

const SOURCE = "cronjob-controller";
const MAX_MISSED = 100;

function finishTime(job: KubeObject): number {
  const conditions = (job.status?.conditions ?? []) as Condition[];
  const finished = conditions.find(
    (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
  );
  return parseTime(job.status?.completionTime) ?? parseTime(finished?.lastTransitionTime) ?? 0;
}

/** The last scheduled time at or before `now`, scanning a recent window first (schedules can be every minute). */
function latestBefore(
  schedule: ReturnType<typeof parseCron>,
  earliest: number,
  now: number,
): number | undefined {
  const day = 24 * 60 * 60 * 1000;
  for (const window of [8 * day, 400 * day, 3660 * day]) {
    let last: number | undefined;
    for (
      let t = schedule.next(Math.max(earliest, now - window));
      t !== undefined && t <= now;
      t = schedule.next(t)
    )
      last = t;
    if (last !== undefined) return last;
  }
  return undefined;
}

export function startCronJobController(ctx: ControllerContext): void {
  const { store, clock } = ctx;
  const queue = new WorkQueue(ctx, "cronjob", sync);
  const reportedFinished = new Set<string>();

  function sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const cj = store.get("CronJob", namespace, name);
    if (cj === undefined || cj.metadata.deletionTimestamp) return;
    const now = clock.now();
    const jobs = store.list("Job", { namespace }).filter((job) => ownedBy(job, cj));
    const active = jobs.filter((job) => !jobFinished(job) && !job.metadata.deletionTimestamp);

    for (const job of jobs) {
      const finished = jobFinished(job);
      if (finished && !reportedFinished.has(job.metadata.uid ?? "")) {
        reportedFinished.add(job.metadata.uid ?? "");
        ctx.events.normal(
          cj,
          "SawCompletedJob",
          `Saw completed job: ${job.metadata.name}, condition: ${finished}`,
          SOURCE,
        );
      }
    }
    trimHistory(cj, jobs);
    const lastSuccess = Math.max(0, ...jobs.filter((j) => jobFinished(j) === "Complete").map(finishTime));
    writeStatus(cj, active, undefined, lastSuccess);

    if (cj.spec?.suspend) return;
    let schedule: ReturnType<typeof parseCron>;
    try {
      schedule = parseCron(String(cj.spec?.schedule ?? ""), cj.spec?.timeZone ?? "UTC");
    } catch (error) {
      ctx.events.warning(
        cj,
        "UnparseableSchedule",
        `unparseable schedule: "${cj.spec?.schedule}" : ${(error as Error).message}`,
        SOURCE,
      );
      return;
    }
    const deadline: number | undefined = cj.spec?.startingDeadlineSeconds;
    let earliest = parseTime(cj.status?.lastScheduleTime) ?? parseTime(cj.metadata.creationTimestamp) ?? now;
    if (deadline !== undefined) earliest = Math.max(earliest, now - deadline * 1000);
    let mostRecent: number | undefined;
    let missed = 0;
    for (let t = schedule.next(earliest); t !== undefined && t <= now; t = schedule.next(t)) {
      mostRecent = t;
      if (++missed > MAX_MISSED) break;
    }
    const next = schedule.next(now);
    if (next !== undefined) queue.addAfter(key, next - now);
    if (mostRecent === undefined) return;
    if (missed > MAX_MISSED) {
      // The v2 controller warns and still starts the most recent run (the old one gave up for good).
      ctx.events.warning(
        cj,
        "TooManyMissedTimes",
        `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
        SOURCE,
      );
      mostRecent = latestBefore(schedule, earliest, now) ?? mostRecent;
    }
    if (deadline !== undefined && mostRecent + deadline * 1000 < now) {
      ctx.events.warning(
        cj,
        "MissSchedule",
        `Missed scheduled time to start a job: ${schedule.format(mostRecent)}`,
        SOURCE,
      );
      return;
    }
    const policy = cj.spec?.concurrencyPolicy ?? "Allow";
    if (policy === "Forbid" && active.length > 0) {
      ctx.events.normal(
        cj,
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
        SOURCE,
      );
      return;
    }
    let stillActive = active;
    if (policy === "Replace") {
      for (const job of active) {
        deleteQuietly(ctx, "Job", namespace, job.metadata.name, { propagationPolicy: "Background" });
        ctx.events.normal(cj, "SuccessfulDelete", `Deleted job ${job.metadata.name}`, SOURCE);
      }
      stillActive = [];
    }
    const jobName = `${cj.metadata.name}-${Math.floor(mostRecent / 60_000)}`;
    let job = store.get("Job", namespace, jobName);
    if (job === undefined) {
      const template = clone(cj.spec?.jobTemplate ?? {});
      job = store.create({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: {
          name: jobName,
          namespace,
          labels: template.metadata?.labels,
          annotations: {
            ...template.metadata?.annotations,
            "batch.kubernetes.io/cronjob-scheduled-timestamp": schedule.format(mostRecent),
          },
          ownerReferences: [ownerReference(cj)],
        },
        spec: template.spec ?? {},
      });
      ctx.events.normal(cj, "SuccessfulCreate", `Created job ${jobName}`, SOURCE);
    }
    writeStatus(cj, jobFinished(job) ? stillActive : [...stillActive, job], mostRecent, lastSuccess);
  }

  function writeStatus(
    cj: KubeObject,
    active: KubeObject[],
    scheduled: number | undefined,
    lastSuccess: number,
  ): void {
    patchStatus(ctx, "CronJob", cj.metadata.namespace, cj.metadata.name, (next) => {
      const status = { ...next.status };
      if (active.length > 0) {
        status.active = active.map((job) => ({
          apiVersion: "batch/v1",
          kind: "Job",
          name: job.metadata.name,
          namespace: job.metadata.namespace,
          uid: job.metadata.uid,
          resourceVersion: job.metadata.resourceVersion,
        }));
        // Only a change of the set of Jobs matters (not their resourceVersions).
        const previous = (next.status?.active ?? []).map((ref: { uid: string }) => ref.uid).join(",");
        if (previous === status.active.map((ref: { uid: string }) => ref.uid).join(","))
          status.active = next.status.active;
      } else delete status.active;
      if (scheduled !== undefined) status.lastScheduleTime = timestamp(scheduled);
      if (lastSuccess > 0) status.lastSuccessfulTime = timestamp(lastSuccess);
      next.status = status;
    });
  }

  function trimHistory(cj: KubeObject, jobs: KubeObject[]): void {
    const limits = {
      Complete: cj.spec?.successfulJobsHistoryLimit ?? 3,
      Failed: cj.spec?.failedJobsHistoryLimit ?? 1,
    };
    for (const kind of ["Complete", "Failed"] as const) {
      const finished = jobs
        .filter((job) => jobFinished(job) === kind && !job.metadata.deletionTimestamp)
        .sort((a, b) => finishTime(a) - finishTime(b));
      for (const job of finished.slice(0, Math.max(0, finished.length - limits[kind]))) {
        deleteQuietly(ctx, "Job", job.metadata.namespace, job.metadata.name, {
          propagationPolicy: "Background",
        });
        ctx.events.normal(cj, "SuccessfulDelete", `Deleted job ${job.metadata.name}`, SOURCE);
      }
    }
  }

  const onCronJob = (event: WatchEvent) => {
    if (event.type !== "DELETED") queue.add(keyOf(event.object));
  };
  const onJob = (event: WatchEvent) => {
    const owner = (event.object.metadata.ownerReferences ?? []).find(
      (o) => o.controller && o.kind === "CronJob",
    );
    if (owner) queue.add(`${event.object.metadata.namespace}/${owner.name}`);
  };
  ctx.cleanups.push(store.subscribe("CronJob", onCronJob), store.subscribe("Job", onJob));
  for (const cj of store.list("CronJob")) queue.add(keyOf(cj));
}
