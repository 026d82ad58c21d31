/**
 * One pod's life on a simulated kubelet, as a small discrete-event simulation: sandbox and volumes,
 * image pulls, init containers one at a time, containers starting, startup/readiness/liveness probes
 * on their period, liveness restarts with back-off, run-to-completion containers (Jobs). It knows
 * nothing of the store: the kubelet controller feeds it the time and the injected probe failures, and
 * writes back the status it renders.
 */
import { createHash } from "node:crypto";
import type { KubeObject } from "../types.js";
import { type Condition, parseTime, timestamp } from "./runtime.js";

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
const SANDBOX_MS = 1_000;
const DEFAULT_INIT_MS = 2_000;
const DEFAULT_RUN_MS = 5_000;
const MAX_BACKOFF_MS = 300_000;

// biome-ignore lint/suspicious/noExplicitAny: container specs are plain JSON
type Json = any;

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
  event(type: "Normal" | "Warning", reason: string, message: string, fieldPath?: string): void;
}

interface ProbeState {
  successes: number;
  failures: number;
  nextAt?: number;
}

interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt?: number;
  finishedAt: number;
  containerID?: string;
}

type RunState = "pending" | "pulling" | "badimage" | "running" | "crashloop" | "terminated";

interface Run {
  name: string;
  spec: Json;
  init: boolean;
  sidecar: boolean;
  image: string;
  state: RunState;
  since: number;
  pullDoneAt?: number;
  badImageBackoff?: boolean;
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

function probeMessage(kind: ProbeKind, probe: Json, podIP: string | undefined): string {
  const title = `${kind[0]!.toUpperCase()}${kind.slice(1)} probe failed: `;
  if (probe?.httpGet) return `${title}HTTP probe failed with statuscode: ${kind === "readiness" ? 503 : 500}`;
  if (probe?.tcpSocket)
    return `${title}dial tcp ${podIP ?? "0.0.0.0"}:${probe.tcpSocket.port}: connect: connection refused`;
  if (probe?.grpc) return `${title}service unhealthy (responded with "NOT_SERVING")`;
  return `${title}command exited with status 1`;
}

function backoffMs(restartCount: number): number {
  return Math.min(10_000 * 2 ** Math.max(0, restartCount - 1), MAX_BACKOFF_MS);
}

export class PodSim {
  private readonly runs: Run[];
  private readonly inits: Run[];
  private readonly mains: Run[];
  private sandboxReadyAt?: number;
  private volumesReadyAt?: number;
  private initDoneAt?: number;
  private ready = false;
  private readyChangedAt: number;
  private readonly restartPolicy: string;
  private readonly initMs: number;
  private containerSeq = 0;
  /** Set by the kubelet when the sandbox gets its address (probe failure messages name it). */
  podIP?: string;

  constructor(
    private pod: KubeObject,
    readonly boundAt: number,
    private readonly completion?: Completion,
    private readonly attemptBase = 0,
  ) {
    this.restartPolicy = pod.spec?.restartPolicy ?? "Always";
    const initSeconds = Number(pod.metadata.annotations?.[SandboxAnnotations.initDuration]);
    this.initMs = Number.isFinite(initSeconds) && initSeconds >= 0 ? initSeconds * 1000 : DEFAULT_INIT_MS;
    const run = (spec: Json, init: boolean): Run => ({
      name: spec.name,
      spec,
      init,
      sidecar: init && spec.restartPolicy === "Always",
      image: spec.image ?? "",
      state: "pending",
      since: boundAt,
      restartCount: 0,
      ready: false,
      probes: {
        readiness: { successes: 0, failures: 0 },
        liveness: { successes: 0, failures: 0 },
        startup: { successes: 0, failures: 0 },
      },
    });
    this.inits = (pod.spec?.initContainers ?? []).map((c: Json) => run(c, true));
    this.mains = (pod.spec?.containers ?? []).map((c: Json) => run(c, false));
    this.runs = [...this.inits, ...this.mains];
    this.readyChangedAt = boundAt;
  }

  /** Picks up where a stored status left off (the kubelet's memory is not kept across restarts). */
  static fromStatus(
    pod: KubeObject,
    completion: Completion | undefined,
    attemptBase: number,
    now: number,
  ): PodSim {
    const status = pod.status ?? {};
    const boundAt = parseTime(status.startTime) ?? now;
    const sim = new PodSim(pod, boundAt, completion, attemptBase);
    const condition = (type: string): Condition | undefined =>
      (status.conditions ?? []).find((c: Condition) => c.type === type);
    const sandbox = condition("PodReadyToStartContainers");
    if (sandbox?.status !== "True") return sim;
    sim.volumesReadyAt = parseTime(sandbox.lastTransitionTime) ?? boundAt;
    sim.sandboxReadyAt = sim.volumesReadyAt;
    const restore = (run: Run, saved: Json | undefined) => {
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
        if (sim.completion && !run.init) run.finishAt = run.startedAt + sim.completion.durationMs;
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
    };
    for (const run of sim.inits)
      restore(
        run,
        (status.initContainerStatuses ?? []).find((s: Json) => s.name === run.name),
      );
    for (const run of sim.mains)
      restore(
        run,
        (status.containerStatuses ?? []).find((s: Json) => s.name === run.name),
      );
    if (condition("Initialized")?.status === "True")
      sim.initDoneAt = parseTime(condition("Initialized")?.lastTransitionTime) ?? boundAt;
    const ready = condition("Ready");
    sim.ready = ready?.status === "True";
    sim.readyChangedAt = parseTime(ready?.lastTransitionTime) ?? boundAt;
    return sim;
  }

  get volumesReady(): boolean {
    return this.volumesReadyAt !== undefined;
  }

  /** Volumes are attached and mounted at `time`: the sandbox follows a moment later. */
  volumesAttached(time: number): void {
    if (this.volumesReadyAt === undefined) this.volumesReadyAt = time;
  }

  get isReady(): boolean {
    return this.ready;
  }

  get hasRunningContainers(): boolean {
    return this.runs.some((run) => run.state === "running");
  }

  /**
   * The node's kubelet was down and is back: containers kept running, but readiness is established
   * again by the next probe (containers without a readiness probe are ready at once).
   */
  nodeRecovered(now: number): void {
    for (const run of this.runs) {
      if (run.state !== "running" || run.startupPassedAt === undefined) continue;
      if (run.spec.readinessProbe) {
        run.ready = false;
        run.probes.readiness = { successes: 0, failures: 0, nextAt: this.aligned(run, "readiness", now) };
      }
    }
    this.ready = false;
    this.readyChangedAt = now;
    this.updateReady(now);
  }

  /** The pod spec changed (image updates are the only change a pod allows): restart what changed. */
  updateSpec(pod: KubeObject, env: SimEnv): void {
    this.pod = pod;
    for (const run of this.runs) {
      const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
        (c: Json) => c.name === run.name,
      );
      if (!spec || spec.image === run.image) continue;
      run.spec = spec;
      run.image = spec.image;
      if (run.state === "running") {
        env.event(
          "Normal",
          "Killing",
          `Container ${run.name} definition changed, will be restarted`,
          this.fieldPath(run),
        );
        this.terminate(run, env.now, { exitCode: 137, reason: "Error" }, env, true);
      } else if (run.state !== "terminated") {
        run.state = "pending";
        run.since = env.now;
      }
    }
  }

  /** Applies every transition due up to `env.now`, in time order. */
  step(env: SimEnv): void {
    this.refreshProbes(env);
    for (let guard = 0; guard < 10_000; guard++) {
      const next = this.nextTransition(env);
      if (next === undefined || next.at > env.now) return;
      next.apply();
      this.updateReady(next.at);
    }
  }

  /** When something will next happen on its own (undefined: only an outside change moves the pod). */
  nextWake(env: SimEnv): number | undefined {
    return this.nextTransition(env)?.at;
  }

  // --- transitions -------------------------------------------------------------------------------

  private nextTransition(env: SimEnv): { at: number; apply: () => void } | undefined {
    let best: { at: number; apply: () => void } | undefined;
    const offer = (at: number | undefined, apply: () => void) => {
      if (at !== undefined && (best === undefined || at < best.at)) best = { at, apply };
    };
    if (this.volumesReadyAt === undefined) return undefined;
    if (this.sandboxReadyAt === undefined) {
      const at = this.volumesReadyAt + SANDBOX_MS;
      offer(at, () => {
        this.sandboxReadyAt = at;
      });
      return best;
    }
    const pendingInit = this.inits.find((run) => !this.initFinished(run));
    if (pendingInit) {
      this.offerRun(pendingInit, this.stageStart(pendingInit), env, offer);
      // Sidecars started before it keep running (and probing) meanwhile.
      for (const sidecar of this.inits.slice(0, this.inits.indexOf(pendingInit))) {
        if (sidecar.sidecar) this.offerRun(sidecar, 0, env, offer);
      }
      return best;
    }
    if (this.initDoneAt === undefined) {
      const at = Math.max(
        this.sandboxReadyAt,
        ...this.inits.map((run) => run.terminated?.finishedAt ?? run.startupPassedAt ?? 0),
      );
      offer(at, () => {
        this.initDoneAt = at;
      });
      return best;
    }
    for (const run of this.runs) {
      if (run.init && !run.sidecar) continue;
      this.offerRun(run, this.initDoneAt, env, offer);
    }
    return best;
  }

  private initFinished(run: Run): boolean {
    if (run.sidecar) return run.startupPassedAt !== undefined;
    return run.state === "terminated" && run.terminated?.exitCode === 0;
  }

  /** An init container starts when the one before it has finished. */
  private stageStart(run: Run): number {
    const index = this.inits.indexOf(run);
    if (index <= 0) return this.sandboxReadyAt ?? this.boundAt;
    const previous = this.inits[index - 1]!;
    return previous.terminated?.finishedAt ?? previous.startupPassedAt ?? this.sandboxReadyAt ?? this.boundAt;
  }

  private offerRun(
    run: Run,
    start: number,
    env: SimEnv,
    offer: (at: number | undefined, apply: () => void) => void,
  ): void {
    switch (run.state) {
      case "pending": {
        const at = Math.max(start, run.since);
        offer(at, () => this.beginPull(run, at, env));
        return;
      }
      case "pulling":
        offer(run.pullDoneAt, () => this.start(run, run.pullDoneAt!, env));
        return;
      case "badimage":
        if (!run.badImageBackoff) {
          const at = run.since + 1_000;
          offer(at, () => {
            run.badImageBackoff = true;
            env.event("Normal", "BackOff", `Back-off pulling image "${run.image}"`, this.fieldPath(run));
            env.event("Warning", "Failed", "Error: ImagePullBackOff", this.fieldPath(run));
          });
        }
        return;
      case "crashloop":
        offer(run.restartAt, () => this.beginPull(run, run.restartAt!, env));
        return;
      case "running": {
        offer(run.finishAt, () => this.finish(run, run.finishAt!, env));
        const { startup, readiness, liveness } = run.probes;
        offer(startup.nextAt, () => this.probe(run, "startup", startup.nextAt!, env));
        offer(readiness.nextAt, () => this.probe(run, "readiness", readiness.nextAt!, env));
        offer(liveness.nextAt, () => this.probe(run, "liveness", liveness.nextAt!, env));
        return;
      }
      default:
        return;
    }
  }

  private fieldPath(run: Run): string {
    return `spec.${run.init ? "initContainers" : "containers"}{${run.name}}`;
  }

  private beginPull(run: Run, at: number, env: SimEnv): void {
    run.since = at;
    if (isBadImage(run.image)) {
      run.state = "badimage";
      run.badImageBackoff = false;
      env.event("Normal", "Pulling", `Pulling image "${run.image}"`, this.fieldPath(run));
      env.event(
        "Warning",
        "Failed",
        `Failed to pull image "${run.image}": rpc error: code = NotFound desc = failed to pull and unpack image "${run.image}": failed to resolve reference "${run.image}": ${run.image}: not found`,
        this.fieldPath(run),
      );
      env.event("Warning", "Failed", "Error: ErrImagePull", this.fieldPath(run));
      return;
    }
    const pull = env.pullTime(run.image, run.spec.imagePullPolicy);
    if (pull > 0) {
      env.event("Normal", "Pulling", `Pulling image "${run.image}"`, this.fieldPath(run));
      run.state = "pulling";
      run.pullDoneAt = at + pull;
      return;
    }
    env.event(
      "Normal",
      "Pulled",
      `Container image "${run.image}" already present on machine`,
      this.fieldPath(run),
    );
    this.start(run, at, env);
  }

  private start(run: Run, at: number, env: SimEnv): void {
    if (run.state === "pulling") {
      const seconds = ((run.pullDoneAt! - run.since) / 1000).toFixed(3).replace(/\.?0+$/, "");
      const size = Number.parseInt(createHash("sha256").update(run.image).digest("hex").slice(0, 6), 16) * 10;
      env.event(
        "Normal",
        "Pulled",
        `Successfully pulled image "${run.image}" in ${seconds}s (${seconds}s including waiting). Image size: ${size} bytes.`,
        this.fieldPath(run),
      );
    }
    run.state = "running";
    run.since = at;
    run.startedAt = at;
    run.ready = false;
    run.containerID = `containerd://${createHash("sha256")
      .update(`${this.pod.metadata.uid}/${run.name}/${this.containerSeq++}/${at}`)
      .digest("hex")}`;
    run.probes = {
      readiness: { successes: 0, failures: 0 },
      liveness: { successes: 0, failures: 0 },
      startup: { successes: 0, failures: 0 },
    };
    run.startupPassedAt = undefined;
    env.event("Normal", "Created", `Created container: ${run.name}`, this.fieldPath(run));
    env.event("Normal", "Started", `Started container ${run.name}`, this.fieldPath(run));
    if (run.init && !run.sidecar) {
      run.finishAt = at + this.initMs;
      return;
    }
    run.finishAt = this.completion && !run.init ? at + this.completion.durationMs : undefined;
    const startup = run.spec.startupProbe;
    if (startup) run.probes.startup.nextAt = at + (startup.initialDelaySeconds ?? 0) * 1000;
    else this.startupPassed(run, at, env);
  }

  private startupPassed(run: Run, at: number, env: SimEnv): void {
    run.startupPassedAt = at;
    run.probes.startup.nextAt = undefined;
    const readiness = run.spec.readinessProbe;
    if (readiness) run.probes.readiness.nextAt = at + (readiness.initialDelaySeconds ?? 0) * 1000;
    else run.ready = true;
    if (run.spec.livenessProbe && env.failing(run.name, "liveness")) {
      run.probes.liveness.nextAt = this.aligned(run, "liveness", at);
    }
  }

  /** The first probe time of `kind` at or after `from`, on the probe's period since the container started. */
  private aligned(run: Run, kind: "readiness" | "liveness", from: number): number {
    const probe = run.spec[`${kind}Probe`];
    const first = (run.startupPassedAt ?? run.startedAt ?? from) + (probe?.initialDelaySeconds ?? 0) * 1000;
    const period = (probe?.periodSeconds ?? 10) * 1000;
    if (from <= first) return first;
    return first + Math.ceil((from - first) / period) * period;
  }

  /** Failures injected (or lifted) since the last step start probing again, on the probe's period. */
  private refreshProbes(env: SimEnv): void {
    for (const run of this.runs) {
      if (run.state !== "running" || run.startupPassedAt === undefined) continue;
      if (
        run.spec.livenessProbe &&
        run.probes.liveness.nextAt === undefined &&
        env.failing(run.name, "liveness")
      ) {
        run.probes.liveness.nextAt = this.aligned(run, "liveness", env.now);
      }
      if (
        run.spec.readinessProbe &&
        run.probes.readiness.nextAt === undefined &&
        (env.failing(run.name, "readiness") || !run.ready)
      ) {
        run.probes.readiness.nextAt = this.aligned(run, "readiness", env.now);
      }
    }
  }

  private probe(run: Run, kind: ProbeKind, at: number, env: SimEnv): void {
    const spec = run.spec[`${kind}Probe`] ?? {};
    const state = run.probes[kind];
    const period = (spec.periodSeconds ?? 10) * 1000;
    const failing = env.failing(run.name, kind);
    if (failing) {
      state.failures++;
      state.successes = 0;
      env.event("Warning", "Unhealthy", probeMessage(kind, spec, this.podIP), this.fieldPath(run));
    } else {
      state.successes++;
      state.failures = 0;
    }
    const threshold = spec.failureThreshold ?? 3;
    switch (kind) {
      case "startup":
        if (!failing) this.startupPassed(run, at, env);
        else if (state.failures >= threshold) {
          env.event(
            "Normal",
            "Killing",
            `Container ${run.name} failed startup probe, will be restarted`,
            this.fieldPath(run),
          );
          this.terminate(run, at, { exitCode: 137, reason: "Error" }, env, false);
        } else state.nextAt = at + period;
        return;
      case "readiness":
        if (failing && run.ready && state.failures >= threshold) run.ready = false;
        if (!failing && !run.ready && state.successes >= (spec.successThreshold ?? 1)) run.ready = true;
        state.nextAt = failing || !run.ready ? at + period : undefined;
        return;
      case "liveness":
        if (!failing) {
          state.nextAt = undefined;
          return;
        }
        if (state.failures >= threshold) {
          env.event(
            "Normal",
            "Killing",
            `Container ${run.name} failed liveness probe, will be restarted`,
            this.fieldPath(run),
          );
          this.terminate(run, at, { exitCode: 137, reason: "Error" }, env, false);
          return;
        }
        state.nextAt = at + period;
        return;
    }
  }

  private finish(run: Run, at: number, env: SimEnv): void {
    if (run.init && !run.sidecar) {
      this.terminate(run, at, { exitCode: 0, reason: "Completed" }, env, false);
      return;
    }
    const outcome = this.completion?.outcome(this.attemptBase + run.restartCount) ?? { exitCode: 0 };
    this.terminate(
      run,
      at,
      {
        exitCode: outcome.exitCode,
        reason: outcome.exitCode === 0 ? "Completed" : "Error",
        message: outcome.message,
      },
      env,
      false,
    );
  }

  private terminate(
    run: Run,
    at: number,
    how: { exitCode: number; reason: string; message?: string },
    env: SimEnv,
    immediateRestart: boolean,
  ): void {
    const terminated: Terminated = {
      ...how,
      startedAt: run.startedAt,
      finishedAt: at,
      containerID: run.containerID,
    };
    run.ready = false;
    run.finishAt = undefined;
    run.probes = {
      readiness: { successes: 0, failures: 0 },
      liveness: { successes: 0, failures: 0 },
      startup: { successes: 0, failures: 0 },
    };
    const restart =
      !(run.init && !run.sidecar && how.exitCode === 0) &&
      (run.sidecar ||
        this.restartPolicy === "Always" ||
        (this.restartPolicy === "OnFailure" && how.exitCode !== 0));
    if (!restart) {
      run.state = "terminated";
      run.terminated = terminated;
      run.since = at;
      return;
    }
    run.last = terminated;
    run.terminated = undefined;
    run.restartCount++;
    if (immediateRestart) {
      run.state = "pending";
      run.since = at;
      return;
    }
    const delay = backoffMs(run.restartCount);
    run.state = "crashloop";
    run.since = at;
    run.restartAt = at + delay;
    env.event(
      "Warning",
      "BackOff",
      `Back-off restarting failed container ${run.name} in pod ${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.pod.metadata.uid})`,
      this.fieldPath(run),
    );
  }

  private updateReady(at: number): void {
    const ready =
      this.initDoneAt !== undefined &&
      this.mains.length > 0 &&
      this.mains.every((run) => run.state === "running" && run.ready);
    if (ready !== this.ready) {
      this.ready = ready;
      this.readyChangedAt = at;
    }
  }

  // --- status ------------------------------------------------------------------------------------

  phase(): "Pending" | "Running" | "Succeeded" | "Failed" {
    if (this.initDoneAt === undefined) {
      const failedInit = this.inits.find(
        (run) => run.state === "terminated" && run.terminated?.exitCode !== 0,
      );
      return failedInit ? "Failed" : "Pending";
    }
    if (this.mains.every((run) => run.state === "terminated")) {
      return this.mains.every((run) => run.terminated?.exitCode === 0) ? "Succeeded" : "Failed";
    }
    const started = this.mains.some(
      (run) => run.state === "running" || run.state === "crashloop" || run.state === "terminated" || run.last,
    );
    return started ? "Running" : "Pending";
  }

  status(current: Json, network: { hostIP: string; podIP?: string; qosClass?: string }): Json {
    const phase = this.phase();
    const t = (ms: number | undefined) => (ms === undefined ? undefined : timestamp(ms));
    const condition = (
      type: string,
      ok: boolean,
      since: number,
      reason?: string,
      message?: string,
    ): Condition => ({
      type,
      status: ok ? "True" : "False",
      lastProbeTime: null,
      lastTransitionTime: t(since),
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
    });
    const finished = phase === "Succeeded" || phase === "Failed";
    const unready = this.mains
      .filter((run) => !(run.state === "running" && run.ready))
      .map((run) => run.name);
    const notReadyReason = finished ? "PodCompleted" : "ContainersNotReady";
    const notReadyMessage = finished ? undefined : `containers with unready status: [${unready.join(" ")}]`;
    const scheduled = (current?.conditions ?? []).find((c: Condition) => c.type === "PodScheduled");
    const pendingInits = this.inits.filter((run) => !this.initFinished(run)).map((run) => run.name);
    const conditions: Condition[] = [
      condition(
        "PodReadyToStartContainers",
        this.sandboxReadyAt !== undefined && !finished,
        this.sandboxReadyAt ?? this.boundAt,
      ),
      this.initDoneAt !== undefined || this.inits.length === 0
        ? condition("Initialized", true, this.initDoneAt ?? this.boundAt)
        : condition(
            "Initialized",
            false,
            this.boundAt,
            "ContainersNotInitialized",
            `containers with incomplete status: [${pendingInits.join(" ")}]`,
          ),
      this.ready
        ? condition("Ready", true, this.readyChangedAt)
        : condition("Ready", false, this.readyChangedAt, notReadyReason, notReadyMessage),
      this.ready
        ? condition("ContainersReady", true, this.readyChangedAt)
        : condition("ContainersReady", false, this.readyChangedAt, notReadyReason, notReadyMessage),
      scheduled ?? condition("PodScheduled", true, this.boundAt),
    ];
    const sandbox = this.sandboxReadyAt !== undefined;
    const status: Json = {
      phase,
      conditions,
      hostIP: network.hostIP,
      hostIPs: [{ ip: network.hostIP }],
      ...(sandbox && network.podIP ? { podIP: network.podIP, podIPs: [{ ip: network.podIP }] } : {}),
      startTime: t(this.boundAt),
      ...(network.qosClass ? { qosClass: network.qosClass } : {}),
    };
    if (this.inits.length > 0)
      status.initContainerStatuses = this.inits.map((run) => this.containerStatus(run));
    status.containerStatuses = this.mains.map((run) => this.containerStatus(run));
    return status;
  }

  private containerStatus(run: Run): Json {
    const t = (ms: number | undefined) => (ms === undefined ? undefined : timestamp(ms));
    const terminatedState = (x: Terminated) => ({
      terminated: {
        exitCode: x.exitCode,
        reason: x.reason,
        ...(x.message ? { message: x.message } : {}),
        startedAt: t(x.startedAt),
        finishedAt: t(x.finishedAt),
        ...(x.containerID ? { containerID: x.containerID } : {}),
      },
    });
    let state: Json;
    const initializing = this.inits.length > 0 && this.initDoneAt === undefined;
    switch (run.state) {
      case "running":
        state = { running: { startedAt: t(run.startedAt) } };
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
                message: `rpc error: code = NotFound desc = failed to pull and unpack image "${run.image}"`,
              },
            };
        break;
      case "crashloop":
        state = {
          waiting: {
            reason: "CrashLoopBackOff",
            message: `back-off ${Math.round((run.restartAt! - run.since) / 1000)}s restarting failed container=${run.name} pod=${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.pod.metadata.uid})`,
          },
        };
        break;
      default:
        state = { waiting: { reason: run.init || initializing ? "PodInitializing" : "ContainerCreating" } };
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
}
