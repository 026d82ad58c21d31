/**
 * The sandbox's state on disk between CLI commands: every object, the resourceVersion counter, the
 * simulated time, the bearer token and the server certificate, the simulated AWS account, as one JSON file written atomically (write, then rename) under
 * CLOUDDROVE_SANDBOX_DIR (default ~/.clouddrove/sandbox).
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { AwsAccountState } from "./aws/state.js";
import { OperationError } from "./errors.js";
import type { KubeObject } from "./types.js";

export const STATE_FORMAT = 1;

export interface SandboxState {
  format: typeof STATE_FORMAT;
  savedAt: string;
  resourceVersion: number;
  /** Simulated time (ms since the epoch) when saved; the clock resumes from it. */
  clockNow: number;
  token: string;
  /** The API server's certificate and key, so kubeconfigs written earlier stay valid. */
  tls: { cert: string; key: string };
  kubernetesVersion: string;
  objects: KubeObject[];
  /** The sandbox's AWS account: its access key, file systems, mount targets, security groups, updates. */
  aws?: AwsAccountState;
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.CLOUDDROVE_SANDBOX_DIR;
  return configured && configured.trim() !== "" ? configured : join(homedir(), ".clouddrove", "sandbox");
}

export function stateFile(dir: string): string {
  return join(dir, "state.json");
}

/** The saved state, or undefined when there is none. A damaged file is an error that says how to recover. */
export async function loadState(dir: string): Promise<SandboxState | undefined> {
  let text: string;
  try {
    text = await readFile(stateFile(dir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let state: SandboxState;
  try {
    state = JSON.parse(text) as SandboxState;
  } catch (error) {
    throw new OperationError(`The sandbox state in ${stateFile(dir)} is not valid JSON.`, {
      cause: error,
      hint: "Run `clouddrove sandbox reset` to start the sandbox over.",
    });
  }
  if (state.format !== STATE_FORMAT || !Array.isArray(state.objects)) {
    throw new OperationError(`The sandbox state in ${stateFile(dir)} has an unknown format.`, {
      hint: "Run `clouddrove sandbox reset` to start the sandbox over.",
    });
  }
  return state;
}

export async function saveState(dir: string, state: SandboxState): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = stateFile(dir);
  const temporary = `${target}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, JSON.stringify(state), { mode: 0o600 });
  await rename(temporary, target);
}

/** Deletes the saved state; true when there was one. */
export async function resetState(dir: string): Promise<boolean> {
  try {
    await rm(stateFile(dir));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
