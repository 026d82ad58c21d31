/**
 * One process owns a state directory: the owner record (`sandbox.json`) is created exclusively by the
 * process that serves the directory's cluster and removed when it stops. A record whose process is gone
 * (killed, machine restarted) is stale and is taken over. The record holds where the cluster answers,
 * never a credential of the cluster (those stay in the state file and the kubeconfig); the AWS keys it
 * names are the sandbox's own made-up ones, which its endpoint alone accepts.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface OwnerRecord {
  pid: number;
  /** "daemon" for a process started by `up` (the leader of its own process group), else "foreground". */
  mode: "daemon" | "foreground";
  startedAt: string;
  /** The process's start time as /proc reports it (see processStart). */
  processStart?: string;
  /** Set once the API server listens. */
  url?: string;
  kubeconfig?: string;
  context?: string;
  /** The EKS cluster the sandbox stands in for, and its AWS endpoint with the sandbox's own static keys. */
  clusterName?: string;
  aws?: {
    endpoint: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    s3Endpoint?: string;
  };
}

export function ownerFile(stateDir: string): string {
  return join(stateDir, "sandbox.json");
}

export function logFile(stateDir: string): string {
  return join(stateDir, "sandbox.log");
}

export function kubeconfigFile(stateDir: string): string {
  return join(stateDir, "kubeconfig");
}

/** Whether a process with this pid exists (EPERM: it exists but is another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * When the process started, in clock ticks since boot (/proc/PID/stat, field 22): with the pid it names one
 * process, so a pid reused after a crash or a reboot is not taken for the owner. Undefined without /proc.
 */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function ownerAlive(record: OwnerRecord): boolean {
  if (!processAlive(record.pid)) return false;
  return record.processStart === undefined || processStart(record.pid) === record.processStart;
}

export function readOwner(stateDir: string): OwnerRecord | undefined {
  let text: string;
  try {
    text = readFileSync(ownerFile(stateDir), "utf8");
  } catch {
    return undefined;
  }
  try {
    const record = JSON.parse(text) as OwnerRecord;
    return Number.isInteger(record.pid) ? record : undefined;
  } catch {
    // A record is written whole (exclusive create, then rename); a torn one is from a crash.
    return undefined;
  }
}

/** The live owner of the directory, if any. */
export function liveOwner(stateDir: string): OwnerRecord | undefined {
  const record = readOwner(stateDir);
  return record && ownerAlive(record) ? record : undefined;
}

export class AlreadyRunningError extends Error {
  constructor(readonly owner: OwnerRecord) {
    super(`The sandbox is already running (pid ${owner.pid}${owner.url ? `, ${owner.url}` : ""}).`);
    this.name = "AlreadyRunningError";
  }
}

/**
 * Claims the directory for this process, or throws AlreadyRunningError naming the live owner. The
 * exclusive create makes two claims at the same moment end with one owner.
 */
export function claimOwnership(stateDir: string, mode: OwnerRecord["mode"]): OwnerRecord {
  const record: OwnerRecord = {
    pid: process.pid,
    mode,
    startedAt: new Date().toISOString(),
    processStart: processStart(process.pid),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(ownerFile(stateDir), `${JSON.stringify(record)}\n`, { flag: "wx", mode: 0o600 });
      return record;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const current = readOwner(stateDir);
      if (current && current.pid !== process.pid && ownerAlive(current))
        throw new AlreadyRunningError(current);
      rmSync(ownerFile(stateDir), { force: true });
    }
  }
  const current = readOwner(stateDir);
  throw new AlreadyRunningError(current ?? record);
}

/** Rewrites this process's record (e.g. with the URL once the server listens), atomically. */
export function updateOwner(stateDir: string, record: OwnerRecord): void {
  const temporary = `${ownerFile(stateDir)}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  renameSync(temporary, ownerFile(stateDir));
}

/** Removes the record if this process still owns it. */
export function releaseOwnership(stateDir: string): void {
  if (readOwner(stateDir)?.pid === process.pid) rmSync(ownerFile(stateDir), { force: true });
}
