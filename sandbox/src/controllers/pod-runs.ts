/**
 * The pieces of the kubelet simulation that are plain data and rules: the annotations that steer it,
 * a container's run state, run-to-completion settings, image names, probe messages, back-off.
 */
import { createHash } from "node:crypto";
import type { KubeObject } from "../types.js";

/** Annotations that steer the simulation (on the pod, or its pod template; Job ones also on the Job). */
export const SandboxAnnotations = {
  /** How long a run-to-completion container runs, in seconds (Job pods; default 5). */
  duration: "sandbox.clouddrove.io/duration-seconds",
  /** "true": the container exits 1 (every attempt). */
  fail: "sandbox.clouddrove.io/fail",
  /** "N": the first N attempts exit 1, later ones succeed (attempts count pods and restarts). */
  failAttempts: "sandbox.clouddrove.io/fail-attempts",
  /** The failed container's termination message. */
  failMessage: "sandbox.clouddrove.io/fail-message",
  /** How long each init container runs, in seconds (default 2). */
  initDuration: "sandbox.clouddrove.io/init-duration-seconds",
  /** Which attempt of its Job a pod is (set by the Job controller). */
  attempt: "sandbox.clouddrove.io/attempt",
  /** Comma-separated container names whose readiness / liveness / startup probes fail (injectProbeFailure). */
  failingReadiness: "sandbox.clouddrove.io/failing-readiness-probe",
  failingLiveness: "sandbox.clouddrove.io/failing-liveness-probe",
  failingStartup: "sandbox.clouddrove.io/failing-startup-probe",
} as const;

export type ProbeKind = "readiness" | "liveness" | "startup";

export const PULL_MS = 2_000;
export const SANDBOX_MS = 1_000;
export const DEFAULT_INIT_MS = 2_000;
const DEFAULT_RUN_MS = 5_000;
const MAX_BACKOFF_MS = 300_000;

// biome-ignore lint/suspicious/noExplicitAny: container specs are plain JSON
export type Json = any;

export interface Completion {
  durationMs: number;
  /** Exit code and message of attempt `n` (0-based over the Job's pods and this pod's restarts). */
  outcome(attempt: number): { exitCode: number; message?: string };
}

export interface SimEnv {
  now: number;
  failing(container: string, probe: ProbeKind): boolean;
  /** Milliseconds the image takes to be ready on this node (0 when present and not Always). */
  pullTime(image: string, policy: string | undefined): number;
  /**
   * runtime hook: an image the sandbox pulls for real (a registry its load balancers serve on
   * 127.0.0.1), attempt `attempt`: started on the first call, then its outcome once known. Undefined for
   * images whose pull is simulated.
   */
  realPull?(image: string, attempt: string): RealPullState | undefined;
  event(type: "Normal" | "Warning", reason: string, message: string, fieldPath?: string): void;
}

export type RealPullState = { done: false } | { done: true; failure?: string };

export interface ProbeState {
  successes: number;
  failures: number;
  nextAt?: number;
}

export interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt?: number;
  finishedAt: number;
  containerID?: string;
}

export type RunState = "pending" | "pulling" | "badimage" | "running" | "crashloop" | "terminated";

/** One container of the pod, through its runs (restarts). */
export interface Run {
  name: string;
  spec: Json;
  init: boolean;
  sidecar: boolean;
  image: string;
  state: RunState;
  since: number;
  pullDoneAt?: number;
  badImageBackoff?: boolean;
  /** The real pull under way or last made (its attempt key), and why it failed. */
  realPull?: string;
  pullFailure?: string;
  /** Real pulls that failed in a row: the kubelet's back-off doubles with each (10 s up to 300 s). */
  pullFailures?: number;
  startedAt?: number;
  finishAt?: number;
  restartAt?: number;
  restartCount: number;
  containerID?: string;
  terminated?: Terminated;
  last?: Terminated;
  ready: boolean;
  startupPassedAt?: number;
  probes: Record<ProbeKind, ProbeState>;
}

/**
 * Run-to-completion settings: every Job pod (with the Job's annotations as fallbacks for the pod's),
 * and any other pod that carries the duration annotation. Other pods run until stopped.
 */
export function completionFor(
  pod: KubeObject,
  jobAnnotations?: Record<string, string>,
): Completion | undefined {
  const own = pod.metadata.annotations ?? {};
  if (jobAnnotations === undefined && own[SandboxAnnotations.duration] === undefined) return undefined;
  const get = (key: string) => own[key] ?? jobAnnotations?.[key];
  const seconds = Number(get(SandboxAnnotations.duration));
  const durationMs =
    get(SandboxAnnotations.duration) !== undefined && Number.isFinite(seconds) && seconds >= 0
      ? seconds * 1000
      : DEFAULT_RUN_MS;
  const failAlways = get(SandboxAnnotations.fail) === "true";
  const failAttempts = Number(get(SandboxAnnotations.failAttempts) ?? 0) || 0;
  const message = get(SandboxAnnotations.failMessage);
  return {
    durationMs,
    outcome: (attempt) => (failAlways || attempt < failAttempts ? { exitCode: 1, message } : { exitCode: 0 }),
  };
}

/** Which attempt of its Job this pod is (0 for the first pod). */
export function attemptOf(pod: KubeObject): number {
  return Number(pod.metadata.annotations?.[SandboxAnnotations.attempt] ?? 0) || 0;
}

export function isBadImage(image: string): boolean {
  return /nonexistent/i.test(image);
}

/** docker.io/library/registry@sha256:... for "registry:2.8.2", as containerd reports image IDs. */
export function imageID(image: string): string {
  const withoutTag = image.replace(/@.*$/, "").replace(/:[^/:]+$/, "");
  const first = withoutTag.split("/")[0] ?? "";
  const hasRegistry =
    withoutTag.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  const repository = hasRegistry
    ? withoutTag
    : `docker.io/${withoutTag.includes("/") ? "" : "library/"}${withoutTag}`;
  return `${repository}@sha256:${createHash("sha256").update(image).digest("hex")}`;
}

export function probeMessage(kind: ProbeKind, probe: Json, podIP: string | undefined): string {
  const title = `${kind[0]!.toUpperCase()}${kind.slice(1)} probe failed: `;
  if (probe?.httpGet) return `${title}HTTP probe failed with statuscode: ${kind === "readiness" ? 503 : 500}`;
  if (probe?.tcpSocket)
    return `${title}dial tcp ${podIP ?? "0.0.0.0"}:${probe.tcpSocket.port}: connect: connection refused`;
  if (probe?.grpc) return `${title}service unhealthy (responded with "NOT_SERVING")`;
  return `${title}command exited with status 1`;
}

/** Kubelet restart back-off: 10 s, doubling, at most 5 minutes. */
export function backoffMs(restartCount: number): number {
  return Math.min(10_000 * 2 ** Math.max(0, restartCount - 1), MAX_BACKOFF_MS);
}

export function freshProbes(): Record<ProbeKind, ProbeState> {
  return {
    readiness: { successes: 0, failures: 0 },
    liveness: { successes: 0, failures: 0 },
    startup: { successes: 0, failures: 0 },
  };
}

export function newRun(spec: Json, init: boolean, since: number): Run {
  return {
    name: spec.name,
    spec,
    init,
    sidecar: init && spec.restartPolicy === "Always",
    image: spec.image ?? "",
    state: "pending",
    since,
    restartCount: 0,
    ready: false,
    probes: freshProbes(),
  };
}
