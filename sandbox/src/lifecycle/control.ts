/**
 * The sandbox as a cluster you point at, like kind: `up` starts it in the background (or finds it
 * running) and returns once its API answers; `down` stops it and every process it started; `status`
 * says whether it runs and where. The state directory keeps everything between runs.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { fileURLToPath } from "node:url";
import { OperationError, UsageError } from "../errors.js";
import { SANDBOX_CONTEXT, writeKubeconfigFile } from "../kubeconfig.js";
import { loadState, resetState } from "../persist.js";
import { kubeconfigFile, liveOwner, logFile, type OwnerRecord, processAlive } from "./owner.js";

export interface UpOptions {
  stateDir: string;
  /** Shape of a new sandbox (a saved one keeps its own). */
  nodes?: number;
  zones?: string[];
  kubernetesVersion?: string;
  clusterName?: string;
  port?: number;
  /** Simulated ms per real ms. */
  speed?: number;
  /** The environment the background process gets (PATH must find docker-registry). */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the API to answer (default 2 minutes: a resumed sandbox restarts its registries first). */
  timeoutMs?: number;
}

export interface RunningSandbox {
  pid: number;
  url: string;
  kubeconfig: string;
  context: string;
  startedAt: string;
  logFile: string;
  /** True when this call started it; false when it was already running. */
  started: boolean;
  /** The EKS cluster it stands in for, and its AWS endpoint (see awsEnvironment). */
  clusterName: string;
  aws: NonNullable<OwnerRecord["aws"]>;
}

/** The daemon's script: the built one, also when this module runs from its sources under a test runner. */
function daemonScript(): string {
  const here = fileURLToPath(import.meta.url);
  const built = here.endsWith(".ts")
    ? fileURLToPath(new URL("../../dist/daemon.js", import.meta.url))
    : fileURLToPath(new URL("../daemon.js", import.meta.url));
  if (!existsSync(built)) {
    throw new OperationError(`The sandbox's background process is not built (${built} is missing).`, {
      hint: "Run `npm run build` in the clouddrove checkout.",
    });
  }
  return built;
}

function running(owner: OwnerRecord, stateDir: string, started: boolean): RunningSandbox {
  return {
    pid: owner.pid,
    url: owner.url as string,
    kubeconfig: owner.kubeconfig ?? kubeconfigFile(stateDir),
    context: owner.context ?? SANDBOX_CONTEXT,
    startedAt: owner.startedAt,
    logFile: logFile(stateDir),
    started,
    clusterName: owner.clusterName ?? "clouddrove",
    aws: owner.aws as NonNullable<OwnerRecord["aws"]>,
  };
}

/** Whether the API server at `url` answers at all (any HTTP status): liveness of a loopback server only. */
export function apiAnswers(url: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      new URL("/version", url),
      { rejectUnauthorized: false, timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(true);
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

function lastLines(path: string, count: number): string[] {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-count);
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function up(options: UpOptions): Promise<RunningSandbox> {
  const { stateDir } = options;
  const current = liveOwner(stateDir);
  if (current?.url) return running(current, stateDir, false);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const args = [daemonScript(), "--state-dir", stateDir];
  if (options.port !== undefined) args.push("--port", String(options.port));
  if (options.nodes !== undefined) args.push("--nodes", String(options.nodes));
  if (options.zones !== undefined) args.push("--zones", options.zones.join(","));
  if (options.speed !== undefined) args.push("--speed", String(options.speed));
  if (options.kubernetesVersion !== undefined) args.push("--kubernetes-version", options.kubernetesVersion);
  if (options.clusterName !== undefined) args.push("--cluster-name", options.clusterName);
  const log = openSync(logFile(stateDir), "a", 0o600);
  let exited: number | null | undefined;
  try {
    // Detached: its own process group and session, so the terminal's Ctrl-C and hang-up do not reach it.
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ["ignore", log, log],
      env: options.env ?? process.env,
    });
    child.on("exit", (code) => {
      exited = code;
    });
    child.unref();
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    for (;;) {
      const owner = liveOwner(stateDir);
      if (owner?.url && (await apiAnswers(owner.url)))
        return running(owner, stateDir, owner.pid === child.pid);
      if (exited !== undefined) {
        // Exit 3: another `up` or `serve` won the directory at the same moment.
        const other = liveOwner(stateDir);
        if (exited === 3 && other) {
          while (!liveOwner(stateDir)?.url && Date.now() < deadline) await sleep(100);
          const ready = liveOwner(stateDir);
          if (ready?.url) return running(ready, stateDir, false);
        }
        throw new OperationError(`The sandbox did not start (its process exited with code ${exited}).`, {
          hint: `See its log: ${logFile(stateDir)}`,
          details: lastLines(logFile(stateDir), 8),
        });
      }
      if (Date.now() > deadline) {
        if (child.pid !== undefined) process.kill(child.pid, "SIGTERM");
        throw new OperationError(
          `The sandbox did not answer within ${Math.round((options.timeoutMs ?? 120_000) / 1000)} s.`,
          {
            hint: `See its log: ${logFile(stateDir)}`,
            details: lastLines(logFile(stateDir), 8),
          },
        );
      }
      await sleep(100);
    }
  } finally {
    closeSync(log);
  }
}

export interface DownResult {
  /** The pid that was stopped, or undefined when nothing was running. */
  stopped?: number;
}

/**
 * Stops the sandbox: SIGTERM, which saves the state and stops its registry processes; after the grace
 * period, SIGKILL to its whole process group. Then no process it started is left.
 */
export async function down(stateDir: string, options: { graceMs?: number } = {}): Promise<DownResult> {
  const owner = liveOwner(stateDir);
  if (!owner) return {};
  process.kill(owner.pid, "SIGTERM");
  const deadline = Date.now() + (options.graceMs ?? 30_000);
  while (processAlive(owner.pid) && Date.now() < deadline) await sleep(50);
  // A daemon leads its own process group: what it started and left behind goes with it.
  if (owner.mode === "daemon") {
    try {
      process.kill(-owner.pid, "SIGKILL");
    } catch {
      // ESRCH: the group is empty, as it should be.
    }
  } else if (processAlive(owner.pid)) {
    process.kill(owner.pid, "SIGKILL");
  }
  while (processAlive(owner.pid) && Date.now() < deadline + 5_000) await sleep(50);
  return { stopped: owner.pid };
}

export interface SandboxNode {
  name: string;
  zone: string;
  ready: boolean;
  kubeletVersion: string;
}

export type SandboxStatus =
  | { running: false; stateDir: string; saved: boolean }
  | (Omit<RunningSandbox, "started" | "aws"> & { running: true; stateDir: string; nodes: SandboxNode[] });

interface NodeList {
  items?: Array<{
    metadata?: { name?: string; labels?: Record<string, string> };
    status?: {
      conditions?: Array<{ type?: string; status?: string }>;
      nodeInfo?: { kubeletVersion?: string };
    };
  }>;
}

function getJson(url: string, token: string, ca: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca, headers: { Authorization: `Bearer ${token}` }, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          if (res.statusCode !== 200) return reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer`)));
    req.on("error", reject);
    req.end();
  });
}

export async function status(stateDir: string): Promise<SandboxStatus> {
  const owner = liveOwner(stateDir);
  const state = await loadState(stateDir);
  if (!owner?.url || !state) return { running: false, stateDir, saved: state !== undefined };
  const list = (await getJson(
    new URL("/api/v1/nodes", owner.url).href,
    state.token,
    state.tls.cert,
  )) as NodeList;
  const nodes = (list.items ?? []).map((node) => ({
    name: node.metadata?.name ?? "",
    zone: node.metadata?.labels?.["topology.kubernetes.io/zone"] ?? "",
    ready: node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? "",
  }));
  const { started: _started, aws: _aws, ...where } = running(owner, stateDir, false);
  return { running: true, stateDir, ...where, nodes };
}

/** Adds the running sandbox's context to another kubeconfig (the user's), as `kind` does. */
export async function mergeKubeconfig(stateDir: string, path: string): Promise<void> {
  const owner = liveOwner(stateDir);
  const state = await loadState(stateDir);
  if (!owner?.url || !state) {
    throw new UsageError("The sandbox is not running.", { hint: "Start it with `clouddrove sandbox up`." });
  }
  writeKubeconfigFile(path, { server: owner.url, token: state.token, certificateAuthority: state.tls.cert });
}

/** Deletes the saved state (objects, volumes' data, kubeconfig); refused while the sandbox runs. */
export async function reset(stateDir: string): Promise<boolean> {
  const owner = liveOwner(stateDir);
  if (owner) {
    throw new UsageError(`The sandbox is running (pid ${owner.pid}); reset deleted nothing.`, {
      hint: "Stop it first with `clouddrove sandbox down`.",
    });
  }
  return resetState(stateDir);
}

export { logFile };
