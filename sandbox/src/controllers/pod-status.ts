/**
 * A simulated pod's status as the kubelet reports it (phase, the five conditions, container statuses
 * with waiting/running/terminated states and the last termination), and the way back: picking a
 * container's run up from a stored status after the sandbox restarted.
 */
import type { KubeObject } from "../types.js";
import { type Completion, imageID, type Json, type Run, type Terminated } from "./pod-runs.js";
import { type Condition, parseTime, timestamp } from "./runtime.js";

/** What the status is rendered from (PodSim's state, read-only). */
export interface PodView {
  pod: KubeObject;
  boundAt: number;
  sandboxReadyAt?: number;
  initDoneAt?: number;
  ready: boolean;
  readyChangedAt: number;
  inits: readonly Run[];
  mains: readonly Run[];
}

export interface PodNetwork {
  hostIP: string;
  podIP?: string;
  qosClass?: string;
}

const time = (ms: number | undefined) => (ms === undefined ? undefined : timestamp(ms));

/** A sidecar counts as initialized once started; an init container once it exited 0. */
export function initFinished(run: Run): boolean {
  if (run.sidecar) return run.startupPassedAt !== undefined;
  return run.state === "terminated" && run.terminated?.exitCode === 0;
}

export function podPhase(view: PodView): "Pending" | "Running" | "Succeeded" | "Failed" {
  if (view.initDoneAt === undefined) {
    const failedInit = view.inits.find((run) => run.state === "terminated" && run.terminated?.exitCode !== 0);
    return failedInit ? "Failed" : "Pending";
  }
  if (view.mains.every((run) => run.state === "terminated")) {
    return view.mains.every((run) => run.terminated?.exitCode === 0) ? "Succeeded" : "Failed";
  }
  const started = view.mains.some(
    (run) => run.state === "running" || run.state === "crashloop" || run.state === "terminated" || run.last,
  );
  return started ? "Running" : "Pending";
}

function condition(type: string, ok: boolean, since: number, reason?: string, message?: string): Condition {
  return {
    type,
    status: ok ? "True" : "False",
    lastProbeTime: null,
    lastTransitionTime: time(since),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

export function renderPodStatus(view: PodView, current: Json, network: PodNetwork): Json {
  const phase = podPhase(view);
  const finished = phase === "Succeeded" || phase === "Failed";
  const unready = view.mains.filter((run) => !(run.state === "running" && run.ready)).map((run) => run.name);
  const notReadyReason = finished ? "PodCompleted" : "ContainersNotReady";
  const notReadyMessage = finished ? undefined : `containers with unready status: [${unready.join(" ")}]`;
  const scheduled = (current?.conditions ?? []).find((c: Condition) => c.type === "PodScheduled");
  const pendingInits = view.inits.filter((run) => !initFinished(run)).map((run) => run.name);
  const readiness = (type: string) =>
    view.ready
      ? condition(type, true, view.readyChangedAt)
      : condition(type, false, view.readyChangedAt, notReadyReason, notReadyMessage);
  const conditions: Condition[] = [
    condition(
      "PodReadyToStartContainers",
      view.sandboxReadyAt !== undefined && !finished,
      view.sandboxReadyAt ?? view.boundAt,
    ),
    view.initDoneAt !== undefined || view.inits.length === 0
      ? condition("Initialized", true, view.initDoneAt ?? view.boundAt)
      : condition(
          "Initialized",
          false,
          view.boundAt,
          "ContainersNotInitialized",
          `containers with incomplete status: [${pendingInits.join(" ")}]`,
        ),
    readiness("Ready"),
    readiness("ContainersReady"),
    scheduled ?? condition("PodScheduled", true, view.boundAt),
  ];
  const sandbox = view.sandboxReadyAt !== undefined;
  const status: Json = {
    phase,
    conditions,
    hostIP: network.hostIP,
    hostIPs: [{ ip: network.hostIP }],
    ...(sandbox && network.podIP ? { podIP: network.podIP, podIPs: [{ ip: network.podIP }] } : {}),
    startTime: time(view.boundAt),
    ...(network.qosClass ? { qosClass: network.qosClass } : {}),
  };
  if (view.inits.length > 0)
    status.initContainerStatuses = view.inits.map((run) => containerStatus(view, run));
  status.containerStatuses = view.mains.map((run) => containerStatus(view, run));
  return status;
}

function terminatedState(x: Terminated): Json {
  return {
    terminated: {
      exitCode: x.exitCode,
      reason: x.reason,
      ...(x.message ? { message: x.message } : {}),
      startedAt: time(x.startedAt),
      finishedAt: time(x.finishedAt),
      ...(x.containerID ? { containerID: x.containerID } : {}),
    },
  };
}

function containerStatus(view: PodView, run: Run): Json {
  const pod = view.pod.metadata;
  let state: Json;
  switch (run.state) {
    case "running":
      state = { running: { startedAt: time(run.startedAt) } };
      break;
    case "terminated":
      state = terminatedState(run.terminated!);
      break;
    case "badimage":
      state = run.badImageBackoff
        ? { waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${run.image}"` } }
        : {
            waiting: {
              reason: "ErrImagePull",
              message: run.pullFailure
                ? `rpc error: code = Unknown desc = ${run.pullFailure}`
                : `rpc error: code = NotFound desc = failed to pull and unpack image "${run.image}"`,
            },
          };
      break;
    case "crashloop":
      state = {
        waiting: {
          reason: "CrashLoopBackOff",
          message: `back-off ${Math.round((run.restartAt! - run.since) / 1000)}s restarting failed container=${run.name} pod=${pod.name}_${pod.namespace}(${pod.uid})`,
        },
      };
      break;
    default: {
      const initializing = view.inits.length > 0 && view.initDoneAt === undefined;
      state = { waiting: { reason: run.init || initializing ? "PodInitializing" : "ContainerCreating" } };
    }
  }
  const everStarted = run.containerID !== undefined;
  return {
    name: run.name,
    image: run.image,
    imageID: everStarted ? imageID(run.image) : "",
    ...(everStarted ? { containerID: run.containerID } : {}),
    ready: run.state === "running" && run.ready,
    started: run.state === "running" && run.startupPassedAt !== undefined,
    restartCount: run.restartCount,
    state,
    lastState: run.last ? terminatedState(run.last) : {},
    ...(run.sidecar ? { restartPolicy: "Always" } : {}),
  };
}

/** Puts a container's run back as its stored status shows it (probes resume on their next period). */
export function restoreRun(
  run: Run,
  saved: Json | undefined,
  now: number,
  completion: Completion | undefined,
): void {
  if (!saved) return;
  run.restartCount = saved.restartCount ?? 0;
  run.containerID = saved.containerID;
  if (saved.state?.running) {
    run.state = "running";
    run.startedAt = parseTime(saved.state.running.startedAt) ?? now;
    run.since = run.startedAt;
    run.ready = saved.ready === true;
    run.startupPassedAt = saved.started === false ? undefined : run.startedAt;
    if (run.startupPassedAt === undefined) run.probes.startup.nextAt = now;
    if (!run.ready && run.spec.readinessProbe) run.probes.readiness.nextAt = now;
    if (!run.ready && !run.spec.readinessProbe) run.ready = true;
    if (completion && !run.init) run.finishAt = run.startedAt + completion.durationMs;
  } else if (saved.state?.terminated) {
    const t = saved.state.terminated;
    run.state = "terminated";
    run.terminated = {
      exitCode: t.exitCode ?? 0,
      reason: t.reason ?? "Completed",
      message: t.message,
      startedAt: parseTime(t.startedAt),
      finishedAt: parseTime(t.finishedAt) ?? now,
      containerID: t.containerID,
    };
  }
}
