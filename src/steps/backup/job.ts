/**
 * Running one backup or restore Job: create it, watch it until it completes or fails (one deadline), and
 * read what its last pod said. Shared by `backup now` and `backup restore`.
 */
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { waitUntil } from "../../adapters/kube-watch.js";
import { podLogTail } from "../../adapters/kube-workload.js";
import { lastLines } from "../../core/backup/job-log.js";
import type { KubeObject } from "../../core/render/types.js";
import { apiTime } from "../../core/time-text.js";
import { OperationError } from "../../errors.js";

/** Lines of the pod's log kept: enough for the result line and a failure's last words. */
const LOG_TAIL = 200;
/** Lines shown when a Job failed. */
export const FAILURE_LINES = 15;

export type JobState = "complete" | "failed" | "running";

export function jobState(job: V1Job | undefined): JobState {
  const conditions = job?.status?.conditions ?? [];
  const isTrue = (type: string) => conditions.some((c) => c.type === type && c.status === "True");
  if (isTrue("Failed")) return "failed";
  if (isTrue("Complete")) return "complete";
  return "running";
}

export interface JobOutcome {
  name: string;
  state: JobState;
  /** The Job's reason and message when it failed (e.g. BackoffLimitExceeded, DeadlineExceeded). */
  reason: string | null;
  message: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** The pod whose log was read (the newest), and how its container ended. */
  pod: string | null;
  exit: { code: number; reason: string | null; message: string | null } | null;
  log: string;
}

/** A short description of where a running Job is, for progress lines. */
export function jobProgress(job: V1Job | undefined): string {
  if (!job) return "waiting for the Job to appear";
  const s = job.status ?? {};
  const parts = [`active ${s.active ?? 0}`, `succeeded ${s.succeeded ?? 0}`, `failed ${s.failed ?? 0}`];
  return `Job ${job.metadata?.name}: ${parts.join(", ")}`;
}

export interface WaitForJobOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onChange?: (job: V1Job | undefined) => void;
}

/** Watches the Job until it is Complete or Failed. */
export async function waitForJob(
  kube: Kube,
  namespace: string,
  name: string,
  options: WaitForJobOptions,
): Promise<V1Job> {
  const [job] = await waitUntil<V1Job>(
    kube,
    { apiVersion: "batch/v1", kind: "Job", namespace, fieldSelector: `metadata.name=${name}` },
    ([current]) => jobState(current) !== "running",
    {
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      onChange: ([current]) => options.onChange?.(current),
      explainTimeout: ([current]) =>
        `${jobProgress(current)} (see kubectl -n ${namespace} describe job ${name})`,
    },
  );
  return job as V1Job;
}

/**
 * Watches the Job until it ends, showing where it is as the task's output, and reads what `container`
 * of its newest pod said.
 */
export async function watchJobToEnd(
  kube: Kube,
  namespace: string,
  name: string,
  container: string,
  options: { timeoutMs: number; signal?: AbortSignal; task: { output: string } },
): Promise<JobOutcome> {
  const finished = await waitForJob(kube, namespace, name, {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    onChange: (job) => {
      options.task.output = jobProgress(job);
    },
  });
  return jobOutcome(kube, finished, container);
}

const newestFirst = (a: V1Pod, b: V1Pod) =>
  String(b.metadata?.creationTimestamp ?? "").localeCompare(String(a.metadata?.creationTimestamp ?? ""));

/** What the Job's newest pod said and how it ended. */
export async function jobOutcome(kube: Kube, job: V1Job, container: string): Promise<JobOutcome> {
  const namespace = job.metadata?.namespace ?? "";
  const name = job.metadata?.name ?? "";
  const pods = await kube.list(Kinds.Pod, { namespace, labelSelector: `job-name=${name}` });
  const pod = [...pods].sort(newestFirst)[0];
  const log = pod ? await podLogTail(kube, namespace, pod.metadata?.name ?? "", container, LOG_TAIL) : "";
  const status = (pod?.status?.containerStatuses ?? []).find((c) => c.name === container);
  const terminated = status?.state?.terminated ?? status?.lastState?.terminated;
  const conditions = job.status?.conditions ?? [];
  const failed = conditions.find((c) => c.type === "Failed" && c.status === "True");
  const state = jobState(job);
  return {
    name,
    state,
    reason: failed?.reason ?? null,
    message: failed?.message ?? null,
    startedAt: apiTime(job.status?.startTime),
    finishedAt: apiTime(
      job.status?.completionTime ??
        failed?.lastTransitionTime ??
        conditions.find((c) => c.type === "Complete")?.lastTransitionTime,
    ),
    pod: pod?.metadata?.name ?? null,
    exit: terminated
      ? {
          code: terminated.exitCode ?? -1,
          reason: terminated.reason ?? null,
          message: terminated.message ?? null,
        }
      : null,
    log,
  };
}

/** Seconds between the Job's start and end, when both are known. */
export function jobSeconds(outcome: JobOutcome): number | null {
  if (!outcome.startedAt || !outcome.finishedAt) return null;
  const ms = Date.parse(outcome.finishedAt) - Date.parse(outcome.startedAt);
  return Number.isFinite(ms) ? Math.max(0, ms / 1000) : null;
}

/** The lines a failure report shows: the pod's last log lines, and how the container ended. */
export function failureDetails(outcome: JobOutcome): string[] {
  const lines: string[] = [];
  if (outcome.reason)
    lines.push(`Job ${outcome.name}: ${outcome.reason}${outcome.message ? ` (${outcome.message})` : ""}`);
  if (outcome.exit) {
    lines.push(
      `pod ${outcome.pod}: exit code ${outcome.exit.code}${outcome.exit.reason ? ` (${outcome.exit.reason})` : ""}${outcome.exit.message ? `: ${outcome.exit.message.trim()}` : ""}`,
    );
  }
  const tail = lastLines(outcome.log, FAILURE_LINES);
  if (tail.length > 0) lines.push(`last ${tail.length} log line(s) of pod ${outcome.pod}:`, ...tail);
  else lines.push(outcome.pod ? `pod ${outcome.pod} left no log` : "the Job's pods are gone; no log to show");
  return lines;
}

/** Creates the Job; one that already exists is an error (an apply would silently reuse a finished one). */
export async function createJob(kube: Kube, job: KubeObject, dryRun = false): Promise<KubeObject> {
  const { name, namespace } = job.metadata;
  if (await kube.get(named(Kinds.Job, name, namespace))) {
    throw new OperationError(`A Job named ${name} already exists in namespace ${namespace}`, {
      hint: "Run the command again: each run names its Job by the time it starts.",
    });
  }
  return (await kube.apply(job, { dryRun })) as KubeObject;
}
