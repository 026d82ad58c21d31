/**
 * One pod's life on a simulated kubelet, as a small discrete-event simulation: sandbox and volumes,
 * image pulls, init containers one at a time, containers starting, startup/readiness/liveness probes
 * on their period, liveness restarts with back-off, run-to-completion containers (Jobs). It knows
 * nothing of the store: the kubelet controller feeds it the time and the injected probe failures, and
 * writes back the status it renders.
 */
import { createHash } from "node:crypto";
import type { KubeObject } from "../types.js";
import {
  backoffMs,
  type Completion,
  DEFAULT_INIT_MS,
  freshProbes,
  isBadImage,
  type Json,
  newRun,
  type ProbeKind,
  type Run,
  SANDBOX_MS,
  SandboxAnnotations,
  type SimEnv,
  type Terminated,
} from "./pod-runs.js";
import {
  initFinished,
  type PodNetwork,
  type PodView,
  podPhase,
  renderPodStatus,
  restoreRun,
} from "./pod-status.js";
import { alignedProbeTime, refreshProbes, runProbe, startupPassed } from "./probes.js";
import { type Condition, parseTime } from "./runtime.js";

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
    this.inits = (pod.spec?.initContainers ?? []).map((c: Json) => newRun(c, true, boundAt));
    this.mains = (pod.spec?.containers ?? []).map((c: Json) => newRun(c, false, boundAt));
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
    for (const run of sim.inits) {
      const saved = (status.initContainerStatuses ?? []).find((s: Json) => s.name === run.name);
      restoreRun(run, saved, now, undefined);
    }
    for (const run of sim.mains) {
      const saved = (status.containerStatuses ?? []).find((s: Json) => s.name === run.name);
      restoreRun(run, saved, now, completion);
    }
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
        run.probes.readiness = { successes: 0, failures: 0, nextAt: alignedProbeTime(run, "readiness", now) };
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

  /**
   * The container's real process exited on its own (the sandbox runtime reports it): the container
   * terminates with that exit code and the restart policy decides what follows. An exit of an earlier
   * run (another containerID) changes nothing.
   */
  containerExited(name: string, containerID: string, exitCode: number, env: SimEnv): void {
    const run = this.mains.find((r) => r.name === name);
    if (run?.state !== "running" || run.containerID !== containerID) return;
    this.terminate(run, env.now, { exitCode, reason: exitCode === 0 ? "Completed" : "Error" }, env, false);
    this.updateReady(env.now);
  }

  /** Applies every transition due up to `env.now`, in time order. */
  step(env: SimEnv): void {
    refreshProbes(this.runs, env);
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
    const pendingInit = this.inits.find((run) => !initFinished(run));
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
        if (run.realPull !== undefined && run.pullDoneAt === undefined) {
          const outcome = env.realPull?.(run.image, run.realPull);
          if (outcome?.done) offer(env.now, () => this.realPullDone(run, env.now, outcome.failure, env));
          return;
        }
        offer(run.pullDoneAt, () => this.start(run, run.pullDoneAt!, env));
        return;
      case "badimage":
        if (run.realPull !== undefined && run.badImageBackoff) {
          // The kubelet tries a failed pull again after its back-off: the node's trust or the pull
          // Secret may have arrived since.
          const backoff = Math.min(10_000 * 2 ** ((run.pullFailures ?? 1) - 1), 300_000);
          offer(run.since + backoff, () => this.beginPull(run, run.since + backoff, env));
        }
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
    const attempt = `${run.name}@${at}`;
    if (env.realPull?.(run.image, attempt) !== undefined) {
      env.event("Normal", "Pulling", `Pulling image "${run.image}"`, this.fieldPath(run));
      run.state = "pulling";
      run.realPull = attempt;
      run.pullDoneAt = undefined;
      return;
    }
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

  /** The outcome of a real pull: the container starts, or the pull failed with containerd's reason. */
  private realPullDone(run: Run, at: number, failure: string | undefined, env: SimEnv): void {
    if (failure === undefined) {
      run.pullDoneAt = at;
      run.pullFailure = undefined;
      run.pullFailures = 0;
      this.start(run, at, env);
      return;
    }
    run.state = "badimage";
    run.since = at;
    run.badImageBackoff = false;
    run.pullFailure = failure;
    run.pullFailures = (run.pullFailures ?? 0) + 1;
    env.event("Warning", "Failed", `Failed to pull image "${run.image}": ${failure}`, this.fieldPath(run));
    env.event("Warning", "Failed", "Error: ErrImagePull", this.fieldPath(run));
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
    run.probes = freshProbes();
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
    else startupPassed(run, at, env);
  }

  private probe(run: Run, kind: ProbeKind, at: number, env: SimEnv): void {
    runProbe(run, kind, at, env, {
      fieldPath: this.fieldPath(run),
      podIP: this.podIP,
      kill: () => this.terminate(run, at, { exitCode: 137, reason: "Error" }, env, false),
    });
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
    run.probes = freshProbes();
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
    return podPhase(this.view());
  }

  status(current: Json, network: PodNetwork): Json {
    return renderPodStatus(this.view(), current, network);
  }

  private view(): PodView {
    return {
      pod: this.pod,
      boundAt: this.boundAt,
      sandboxReadyAt: this.sandboxReadyAt,
      initDoneAt: this.initDoneAt,
      ready: this.ready,
      readyChangedAt: this.readyChangedAt,
      inits: this.inits,
      mains: this.mains,
    };
  }
}
