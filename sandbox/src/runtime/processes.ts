/**
 * The container runtime behind the simulated kubelet, for the containers the sandbox runs for real
 * (registry images serving, and the backup image's shell scripts: see script-launch.ts): a process per
 * running container, started when the simulation brings the container to running (a new containerID
 * means a new process), stopped when the simulation stops it (liveness kill, image change) or the pod is
 * deleted (SIGTERM, SIGKILL after the grace period), its exit reported back so the simulation terminates
 * the container (and restarts it, or the Job's pod ends, as its restartPolicy says). Probes of such containers
 * are answered by the real process; everything else about the pod stays simulated.
 */
import { accessSync, constants as fsConstants } from "node:fs";
import { mkdir, readdir, rm, symlink } from "node:fs/promises";
import { delimiter, join } from "node:path";
import type { SandboxS3 } from "../s3.js";
import type { KubeObject, ObjectStore, SandboxClock } from "../types.js";
import { resolveEnv } from "./env.js";
import { type RegistryMajor, registryMajor } from "./image.js";
import { nodeDirectory, podDirectory } from "./layout.js";
import { freePort } from "./ports.js";
import { isRealProbe, type ProbeKind, Prober, STARTUP_REAL_MS, tcpProbe } from "./probes.js";
import { LogBuffer, ManagedProcess } from "./process.js";
import { isExecutable, missingV3BinaryMessage } from "./registry-binaries.js";
import { planLaunch, serveArguments } from "./registry-launch.js";
import { planScriptLaunch, scriptArguments, scriptTools } from "./script-launch.js";
import { materializeMounts } from "./volumes.js";

// biome-ignore lint/suspicious/noExplicitAny: pod specs and statuses are plain JSON
type Json = any;

export const REGISTRY_BINARY = "docker-registry";
/** Host tools script containers may need besides the shell: rclone, which the backup scripts are built on. */
export const SCRIPT_TOOLS = ["rclone"] as const;

/** How a container runs for real: the registry serving (of a major version), or a shell script. */
export type RealKind = { kind: "registry"; major: RegistryMajor } | { kind: "script" };

export type EventFn = (
  type: "Normal" | "Warning",
  reason: string,
  message: string,
  fieldPath?: string,
) => void;

export interface ContainerExit {
  container: string;
  containerID: string;
  exitCode: number;
}

interface ContainerRun {
  container: string;
  containerID: string;
  spec: Json;
  state: "starting" | "running" | "exited";
  /** The kubelet stopped it: its exit is not a crash to report. */
  stopRequested: boolean;
  /** The pod's terminationGracePeriodSeconds. */
  graceSeconds: number;
  /** Its API port has accepted a connection (see settled()). */
  listening?: boolean;
  logs: LogBuffer;
  ports: Map<number, number>;
  process?: ManagedProcess;
  prober?: Prober;
  cancelKill?: () => void;
  /** Resolves when the process is gone, or when it was never started. */
  done: Promise<void>;
  finish: () => void;
}

interface PodEntry {
  key: string;
  uid: string;
  runs: Map<string, ContainerRun>;
  /** The log of each container's run before the current one (`kubectl logs --previous`). */
  previous: Map<string, LogBuffer>;
  exits: ContainerExit[];
  terminating: boolean;
}

/** The first executable called `name` on PATH, or undefined. */
export function findExecutable(name: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const keyOf = (pod: KubeObject) => `${pod.metadata.namespace}/${pod.metadata.name}`;

/** The registry major version of a container the sandbox runs for real, else undefined. */
export function realContainer(container: Json): RegistryMajor | undefined {
  const major = registryMajor(container?.image);
  return major !== undefined && serveArguments(container, major) !== undefined ? major : undefined;
}

function graceSecondsOf(pod: KubeObject): number {
  return pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
}

export interface PodProcessesOptions {
  store: ObjectStore;
  clock: SandboxClock;
  dataDir: string;
  /** The 2.x registry binary; undefined when it is not installed (then registry pods stay simulated). */
  binary: string | undefined;
  /**
   * Where Distribution v3's registry binary is (registry-binaries.ts), for registry:3.x containers;
   * looked at on each start, so a binary built while the sandbox runs is used by the next container.
   */
  v3Binary: string;
  /** The host's shell for script containers; undefined when sh is missing (they stay simulated). */
  shell?: string | undefined;
  /** Which of SCRIPT_TOOLS this machine has: a script container needing a missing one stays simulated. */
  scriptTools?: ReadonlySet<string>;
  /** The sandbox's S3, injected into script containers (see script-launch.ts). */
  s3?: SandboxS3;
}

export class PodProcesses {
  private readonly entries = new Map<string, PodEntry>();
  private readonly listeners = new Set<(podKey: string) => void>();
  private readonly pending = new Set<Promise<unknown>>();
  private stopped = false;

  /**
   * The containers that were running when this runtime started, as "podUID/containerID": a saved sandbox
   * resuming. Their processes start again, but the cluster the sandbox stands for kept running across
   * the pause, so that start must not look like a container failing (see probeFailing).
   */
  private readonly resumedContainers = new Set<string>();

  constructor(private readonly options: PodProcessesOptions) {
    for (const pod of options.store.list("Pod")) {
      for (const status of pod.status?.containerStatuses ?? []) {
        if (status.state?.running && status.containerID)
          this.resumedContainers.add(`${pod.metadata.uid}/${status.containerID}`);
      }
    }
  }

  get available(): boolean {
    return this.options.binary !== undefined;
  }

  /** How this container runs for real here, or undefined when it stays simulated. */
  kindOf(container: Json): RealKind | undefined {
    if (this.options.binary !== undefined) {
      const major = realContainer(container);
      if (major !== undefined) return { kind: "registry", major };
    }
    if (
      this.options.shell !== undefined &&
      scriptArguments(container) !== undefined &&
      scriptTools(container).every((tool) => this.options.scriptTools?.has(tool))
    )
      return { kind: "script" };
    return undefined;
  }

  /** Whether some container of the pod runs as a real process here (by its spec). */
  runsForReal(pod: KubeObject): boolean {
    return (pod.spec?.containers ?? []).some((c: Json) => this.kindOf(c) !== undefined);
  }

  /** Calls back with the pod's key whenever something the kubelet should look at changed. */
  onChange(listener: (podKey: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * After the kubelet rendered the pod's status: starts a process for every real container that is
   * running with a containerID that has none yet, stops processes whose container no longer runs.
   */
  sync(pod: KubeObject, status: Json, event: EventFn): void {
    if (this.stopped || pod.metadata.deletionTimestamp) return;
    const key = keyOf(pod);
    let entry = this.entries.get(key);
    if (entry && entry.uid !== pod.metadata.uid) {
      this.remove(key);
      entry = undefined;
    }
    if (entry === undefined) {
      if (!this.runsForReal(pod)) return;
      entry = {
        key,
        uid: pod.metadata.uid ?? "",
        runs: new Map(),
        previous: new Map(),
        exits: [],
        terminating: false,
      };
      this.entries.set(key, entry);
    }
    if (entry.terminating) return;
    for (const spec of pod.spec?.containers ?? []) {
      // A container whose image was changed to one that is simulated loses its process like any other.
      const kind = this.kindOf(spec);
      const containerStatus = (status?.containerStatuses ?? []).find((c: Json) => c.name === spec.name);
      const runningID: string | undefined =
        kind !== undefined && containerStatus?.state?.running ? containerStatus.containerID : undefined;
      const current = entry.runs.get(spec.name);
      if (current && current.containerID === runningID) continue;
      if (current && current.state !== "exited") this.stopRun(current, graceSecondsOf(pod));
      if (runningID && kind !== undefined) this.startRun(entry, pod, spec, kind, runningID, event);
    }
  }

  /** The real probe's verdict, or undefined when this probe is simulated (not a real container or probe). */
  probeFailing(pod: KubeObject, container: string, kind: ProbeKind): boolean | undefined {
    const spec = (pod.spec?.containers ?? []).find((c: Json) => c.name === container);
    if (!spec || this.kindOf(spec)?.kind !== "registry" || !isRealProbe(spec[`${kind}Probe`]))
      return undefined;
    const entry = this.entries.get(keyOf(pod));
    const run = entry?.uid === pod.metadata.uid ? entry?.runs.get(container) : undefined;
    // Until the process has answered, it is not ready; a liveness probe does not count against a process
    // that is still starting (at a high speed factor its start-up takes many simulated seconds).
    const unknown = kind !== "liveness";
    // A resumed container's process starting again counts against neither its readiness nor its liveness,
    // for as long as a process may take to start (a restart later gets a new container ID).
    const resumed = this.isResumed(pod, container);
    if (run === undefined || run.state === "starting") return resumed ? false : unknown;
    if (run.state === "exited") return true;
    if (resumed && run.prober?.stillStarting(kind)) return false;
    const result = run.prober?.result(kind);
    return result === undefined ? unknown : !result.ok;
  }

  private isResumed(pod: KubeObject, container: string): boolean {
    const status = (pod.status?.containerStatuses ?? []).find((s: Json) => s.name === container);
    return (
      status?.containerID !== undefined &&
      this.resumedContainers.has(`${pod.metadata.uid}/${status.containerID}`)
    );
  }

  /** Exits not yet reported to the pod simulation (each is reported once). */
  takeExits(pod: KubeObject): ContainerExit[] {
    const entry = this.entries.get(keyOf(pod));
    if (!entry || entry.uid !== pod.metadata.uid || entry.exits.length === 0) return [];
    return entry.exits.splice(0);
  }

  /** The pod is being deleted: SIGTERM to its processes now, SIGKILL after its grace period (simulated time). */
  terminate(pod: KubeObject): void {
    const entry = this.entries.get(keyOf(pod));
    if (!entry || entry.uid !== pod.metadata.uid || entry.terminating) return;
    entry.terminating = true;
    for (const run of entry.runs.values()) this.stopRun(run, graceSecondsOf(pod));
  }

  /** The pod is gone: kills what still runs and removes the pod's own directory (not its claims' data). */
  remove(podKey: string): void {
    const entry = this.entries.get(podKey);
    if (!entry) return;
    this.entries.delete(podKey);
    for (const run of entry.runs.values()) {
      run.stopRequested = true;
      run.prober?.stop();
      run.process?.kill();
    }
    const runs = [...entry.runs.values()];
    this.track(
      Promise.all(runs.map((run) => run.done)).then(() =>
        rm(podDirectory(this.options.dataDir, entry.uid), { recursive: true, force: true }),
      ),
    );
  }

  /** The host port on 127.0.0.1 where the pod's process listens for `containerPort`, if one does. */
  /** Where a path of node `node` is on this machine (what its hostPath volumes mount). */
  nodePath(node: string, path: string): string {
    return nodeDirectory(this.options.dataDir, node, path);
  }

  hostPort(namespace: string | undefined, name: string, containerPort: number): number | undefined {
    const entry = this.entries.get(`${namespace}/${name}`);
    for (const run of entry?.runs.values() ?? []) {
      if (run.state === "running" && run.process?.running) {
        const port = run.ports.get(containerPort);
        if (port !== undefined) return port;
      }
    }
    return undefined;
  }

  /**
   * Like hostPort, but while the pod's container is starting (its volumes being written, its process
   * about to be spawned) waits for it, up to `limitMs`: the simulation reports a container running a
   * moment before its process exists.
   */
  async waitForHostPort(
    namespace: string | undefined,
    name: string,
    containerPort: number,
    limitMs = 5_000,
  ): Promise<number | undefined> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const port = this.hostPort(namespace, name, containerPort);
      const entry = this.entries.get(`${namespace}/${name}`);
      const starting = [...(entry?.runs.values() ?? [])].some((run) => run.state === "starting");
      if (port !== undefined || !starting || Date.now() > deadline) return port;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Resolves when every real container that the pods' statuses show running (on a Ready node) has a
   * process that accepts connections on its API port, or has exited; or after `limitMs`. A saved sandbox
   * that starts again waits for this, so that its pause is invisible: the pods it restores as Ready answer.
   */
  async settled(limitMs = STARTUP_REAL_MS): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (Date.now() <= deadline) {
      let waiting = false;
      for (const pod of this.options.store.list("Pod")) {
        if (pod.metadata.deletionTimestamp || !this.runsForReal(pod) || !this.onReadyNode(pod)) continue;
        for (const status of pod.status?.containerStatuses ?? []) {
          const spec = (pod.spec?.containers ?? []).find((c: Json) => c.name === status.name);
          // Only serving containers have a port to wait for; a script simply runs.
          if (!status.state?.running || this.kindOf(spec)?.kind !== "registry") continue;
          const run = this.entries.get(keyOf(pod))?.runs.get(status.name);
          if (run?.state === "exited") continue;
          if (run?.state === "running" && (await this.accepts(run))) continue;
          waiting = true;
        }
      }
      if (!waiting) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  private onReadyNode(pod: KubeObject): boolean {
    const node = pod.spec?.nodeName
      ? this.options.store.get("Node", undefined, pod.spec.nodeName)
      : undefined;
    return (node?.status?.conditions ?? []).some((c: Json) => c.type === "Ready" && c.status === "True");
  }

  /** Whether the run's API port (its first mapped port) accepts a connection; remembered once true. */
  private async accepts(run: ContainerRun): Promise<boolean> {
    if (run.listening) return true;
    const port = run.ports.values().next().value;
    if (port === undefined || !run.process?.running) return false;
    run.listening = (await tcpProbe(port, 1_000)).ok;
    return run.listening;
  }

  /** Whether the pod has a process running now. */
  hasProcess(namespace: string | undefined, name: string): boolean {
    const entry = this.entries.get(`${namespace}/${name}`);
    return [...(entry?.runs.values() ?? [])].some((run) => run.state === "running" && run.process?.running);
  }

  /** The pod's current processes: container, containerID, pid while it runs, container -> host ports. */
  describe(
    namespace: string | undefined,
    name: string,
  ): Array<{ container: string; containerID: string; pid: number | undefined; ports: Map<number, number> }> {
    const entry = this.entries.get(`${namespace}/${name}`);
    return [...(entry?.runs.values() ?? [])].map((run) => ({
      container: run.container,
      containerID: run.containerID,
      pid: run.process?.running ? run.process.pid : undefined,
      ports: new Map(run.ports),
    }));
  }

  /** What a real container wrote (the current run, or the one before); undefined for simulated containers. */
  logs(
    namespace: string | undefined,
    name: string,
    options: { container?: string; previous?: boolean; tailLines?: number } = {},
  ): string | undefined {
    const entry = this.entries.get(`${namespace}/${name}`);
    if (!entry) return undefined;
    const container = options.container ?? [...entry.runs.keys()][0];
    if (container === undefined) return undefined;
    const current = entry.runs.get(container);
    // While a crashed container waits to restart, its exited run is both the current and the previous
    // instance (as the kubelet answers, --previous or not).
    const buffer =
      options.previous && current?.state !== "exited" ? entry.previous.get(container) : current?.logs;
    return buffer?.text(options.tailLines);
  }

  /**
   * Stops every process — SIGTERM, SIGKILL after the pod's grace period in real time but at most
   * `killAfterMs` (a sandbox that stops should not hang on a draining registry) — and waits for them and
   * for pending work.
   */
  async stop(killAfterMs = 5_000): Promise<void> {
    this.stopped = true;
    for (const entry of this.entries.values()) {
      for (const run of entry.runs.values()) {
        run.stopRequested = true;
        run.prober?.stop();
        run.cancelKill?.();
        run.process?.terminate(Math.min(run.graceSeconds * 1000, killAfterMs));
      }
    }
    await Promise.all(
      [...this.entries.values()].flatMap((entry) => [...entry.runs.values()].map((r) => r.done)),
    );
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Removes the directories of pods that no longer exist (left from an earlier run of a saved sandbox). */
  async pruneOrphans(): Promise<void> {
    const live = new Set(
      this.options.store.list("Pod").map((pod) => podDirectory(this.options.dataDir, pod.metadata.uid ?? "")),
    );
    const root = join(this.options.dataDir, "pods");
    const names = await readdir(root).catch(() => [] as string[]);
    await Promise.all(
      names
        .map((name) => join(root, name))
        .filter((dir) => !live.has(dir))
        .map((dir) => rm(dir, { recursive: true, force: true })),
    );
  }

  private notify(podKey: string): void {
    if (this.stopped) return;
    for (const listener of this.listeners) listener(podKey);
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private stopRun(run: ContainerRun, graceSeconds: number): void {
    if (run.stopRequested) return;
    run.stopRequested = true;
    run.prober?.stop();
    const process = run.process;
    if (!process?.running) return;
    process.terminate();
    run.cancelKill = this.options.clock.after(graceSeconds * 1000, () => process.kill());
  }

  private startRun(
    entry: PodEntry,
    pod: KubeObject,
    spec: Json,
    kind: RealKind,
    containerID: string,
    event: EventFn,
  ): void {
    const current = entry.runs.get(spec.name);
    if (current) entry.previous.set(spec.name, current.logs);
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const run: ContainerRun = {
      container: spec.name,
      containerID,
      spec,
      state: "starting",
      stopRequested: false,
      graceSeconds: graceSecondsOf(pod),
      logs: new LogBuffer(),
      ports: new Map(),
      done,
      finish,
    };
    entry.runs.set(spec.name, run);
    const fieldPath = `spec.containers{${spec.name}}`;
    this.track(
      this.launch(entry, pod, spec, kind, run, event, fieldPath).catch((error: unknown) => {
        run.logs.write(`sandbox: could not start the container: ${(error as Error).message}\n`);
        this.exited(entry, run, 128);
      }),
    );
  }

  private async launch(
    entry: PodEntry,
    pod: KubeObject,
    spec: Json,
    kind: RealKind,
    run: ContainerRun,
    event: EventFn,
    fieldPath: string,
  ): Promise<void> {
    const { store, dataDir } = this.options;
    const mounts = await materializeMounts(store, dataDir, pod, spec);
    const env = resolveEnv(store, pod, spec);
    for (const problem of mounts.problems)
      event("Warning", "FailedMount", `MountVolume.SetUp failed: ${problem}`, fieldPath);
    for (const problem of env.problems) event("Warning", "Failed", `Error: ${problem}`, fieldPath);
    let command: { binary: string; args: string[]; env: Record<string, string> } | undefined;
    if (kind.kind === "registry") {
      const binary = kind.major === 3 ? this.options.v3Binary : this.options.binary;
      if (kind.major === 3 && !isExecutable(this.options.v3Binary)) {
        // Never 2.8.2 in its place: the container fails (127, as a shell's "command not found"), with
        // a log line and a Warning event naming the script that builds the binary.
        const message = missingV3BinaryMessage(spec.image, this.options.v3Binary);
        run.logs.write(`sandbox: ${message}\n`);
        event("Warning", "Failed", `Error: ${message}`, fieldPath);
        this.exited(entry, run, 127);
        return;
      }
      const plan = await planLaunch({ major: kind.major, container: spec, mounts, env: env.env, freePort });
      run.ports = plan.ports;
      if (binary) command = { binary, args: plan.args, env: plan.env };
    } else {
      const binDirectory = await this.imageBinaries(entry, spec, run, event, fieldPath);
      if (binDirectory === null) return;
      const plan = planScriptLaunch({
        container: spec,
        mounts,
        env: env.env,
        podName: pod.metadata.name,
        s3: this.options.s3,
        binDirectory,
      });
      for (const note of plan.notes) event("Normal", "SandboxS3", note, fieldPath);
      await mkdir(plan.env.TMPDIR ?? mounts.rootfs, { recursive: true });
      if (this.options.shell) command = { binary: this.options.shell, args: plan.args, env: plan.env };
    }
    if (run.stopRequested || this.stopped || command === undefined) {
      this.exited(entry, run, 0);
      return;
    }
    const process = new ManagedProcess(
      command.binary,
      command.args,
      command.env,
      podDirectory(dataDir, entry.uid),
      run.logs,
      { wholeTree: kind.kind === "script" },
    );
    run.process = process;
    run.state = "running";
    run.prober = new Prober(
      this.options.clock,
      spec,
      (port) => run.ports.get(port),
      () => this.notify(entry.key),
    );
    const status = await process.exited;
    run.cancelKill?.();
    this.exited(entry, run, status.exitCode);
  }

  /**
   * For a script in a registry image: a directory with `registry` linked to the binary that runs the
   * image's major version (what /bin/registry is in the image). Undefined for other images; null when
   * the binary is missing, after failing the container as a registry container fails without it.
   */
  private async imageBinaries(
    entry: PodEntry,
    spec: Json,
    run: ContainerRun,
    event: EventFn,
    fieldPath: string,
  ): Promise<string | undefined | null> {
    const major = registryMajor(spec.image);
    if (major === undefined) return undefined;
    const binary = major === 3 ? this.options.v3Binary : this.options.binary;
    if (binary === undefined || !isExecutable(binary)) {
      const message =
        major === 3
          ? missingV3BinaryMessage(spec.image, this.options.v3Binary)
          : `${spec.image} runs ${REGISTRY_BINARY}, which is not installed on this machine`;
      run.logs.write(`sandbox: ${message}\n`);
      event("Warning", "Failed", `Error: ${message}`, fieldPath);
      this.exited(entry, run, 127);
      return null;
    }
    const directory = join(podDirectory(this.options.dataDir, entry.uid), "bin", spec.name);
    await mkdir(directory, { recursive: true });
    await symlink(binary, join(directory, "registry")).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
    return directory;
  }

  /** The run is over; unless the kubelet stopped it, the simulation hears of the exit. */
  private exited(entry: PodEntry, run: ContainerRun, exitCode: number): void {
    if (run.state === "exited") return;
    run.state = "exited";
    run.prober?.stop();
    run.finish();
    if (run.stopRequested || this.stopped || this.entries.get(entry.key) !== entry) return;
    entry.exits.push({ container: run.container, containerID: run.containerID, exitCode });
    this.notify(entry.key);
  }
}
