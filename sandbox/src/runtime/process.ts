/**
 * One real container process: spawned with exactly the environment it is given, its output kept as the
 * last lines of a log (what `pods/log` serves), stopped the way the kubelet stops a container — SIGTERM,
 * then SIGKILL when the grace period is over. For a shell script's container the signals go to the whole
 * process tree, as a container's PID namespace ends with its PID 1: a child the script left running
 * (`sleep 300 &`) would otherwise outlive it and hold its output open. (Not a process group of its own:
 * the tree stays in the sandbox's group, which `down` kills as a whole should the sandbox hang.)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Every process below `pid` (children first found, then theirs), from /proc; none where /proc is absent. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  for (const entry of entries) {
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const next = children.get(queue.shift() as number) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}

const MAX_LOG_LINES = 2_000;

/** The last lines a container wrote, stdout and stderr interleaved as they arrived. */
export class LogBuffer {
  private readonly lines: string[] = [];
  private partial = "";

  write(chunk: string | Buffer): void {
    const text = this.partial + chunk.toString();
    const parts = text.split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) this.push(line);
  }

  private push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LOG_LINES) this.lines.splice(0, this.lines.length - MAX_LOG_LINES);
  }

  /** The text, optionally only the last `tailLines` lines. */
  text(tailLines?: number): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    const chosen =
      tailLines !== undefined && tailLines >= 0 ? all.slice(Math.max(0, all.length - tailLines)) : all;
    return chosen.length > 0 ? `${chosen.join("\n")}\n` : "";
  }
}

export interface ExitStatus {
  /** The exit code, or 128 + the signal number when a signal ended it (as container runtimes report it). */
  exitCode: number;
  signal?: NodeJS.Signals;
}

/**
 * Processes still running. When this Node process exits without stopping the sandbox (process.exit, an
 * uncaught error, a test worker torn down), they are killed with it instead of living on as orphans.
 */
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;
function killOnExit(process: ManagedProcess): void {
  live.add(process);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  globalThis.process.once("exit", () => {
    for (const running of live) running.kill();
  });
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2 };

export class ManagedProcess {
  /** Resolves once the process is gone (also when it never started). */
  readonly exited: Promise<ExitStatus>;
  private child: ChildProcess | undefined;
  private status: ExitStatus | undefined;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    binary: string,
    args: string[],
    env: Record<string, string>,
    cwd: string,
    readonly logs: LogBuffer = new LogBuffer(),
    private readonly options: { wholeTree?: boolean } = {},
  ) {
    let settle!: (status: ExitStatus) => void;
    this.exited = new Promise((resolve) => {
      settle = resolve;
    });
    const finish = (status: ExitStatus) => {
      if (this.status) return;
      this.status = status;
      live.delete(this);
      if (this.killTimer) clearTimeout(this.killTimer);
      settle(status);
    };
    try {
      this.child = spawn(binary, args, {
        env,
        cwd,
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (error) {
      this.logs.write(`failed to start ${binary}: ${(error as Error).message}\n`);
      finish({ exitCode: 128 });
      return;
    }
    killOnExit(this);
    this.child.stdout?.on("data", (chunk) => this.logs.write(chunk));
    this.child.stderr?.on("data", (chunk) => this.logs.write(chunk));
    this.child.on("error", (error) => {
      // ENOENT and the like: the container could not start at all.
      this.logs.write(`failed to start ${binary}: ${error.message}\n`);
      finish({ exitCode: 128 });
    });
    // "close", not "exit": the output pipes are drained by then, so the log holds the last words.
    this.child.on("close", (code, signal) => {
      const exitCode = code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 1);
      finish(signal ? { exitCode, signal } : { exitCode });
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.status === undefined;
  }

  /** SIGTERM now; SIGKILL when `kill()` is called later or after `graceMs` of real time, if given. */
  terminate(graceMs?: number): void {
    if (!this.running) return;
    this.signal("SIGTERM");
    if (graceMs !== undefined && this.killTimer === undefined) {
      this.killTimer = setTimeout(() => this.kill(), Math.max(0, graceMs));
      this.killTimer.unref();
    }
  }

  kill(): void {
    if (this.running) this.signal("SIGKILL");
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    // The tree is read before anything is signalled (a process whose parent died is adopted elsewhere
    // and no longer found below it), and the parent is signalled first: a shell waiting on a child must
    // get its own signal (and run its trap) before the child's death ends its wait with 143.
    const below = this.options.wholeTree && pid !== undefined ? descendants(pid) : [];
    this.child?.kill(signal);
    for (const descendant of below) {
      try {
        globalThis.process.kill(descendant, signal);
      } catch {
        // gone meanwhile
      }
    }
  }
}
