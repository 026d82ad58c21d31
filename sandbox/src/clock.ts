/**
 * Simulated time for the sandbox. Controllers never call setTimeout: they schedule work on a clock, so
 * the same code runs at a speed factor (a 15 s readiness delay in 15 ms at speed 1000) or, in tests,
 * under a manual clock that only moves when the test calls advance() and then runs the due work in
 * order, deterministically.
 */
import type { SandboxClock } from "./types.js";

export interface ManualClock extends SandboxClock {
  /** Moves simulated time forward by `ms`, running every task that falls due on the way, in order. */
  advance(ms: number): Promise<void>;
}

export interface ClockOptions {
  /** Simulated milliseconds per real millisecond (default 1). */
  speed?: number;
  /** Simulated time to start from, in ms since the epoch (default: the real time now). */
  start?: number;
  /** Only advance() moves time. */
  manual?: boolean;
  /** Where errors thrown by scheduled work go (default: a process warning); the clock keeps running. */
  onError?: (error: unknown) => void;
}

export type Clock = SandboxClock & { speed: number; stop(): void; advance?(ms: number): Promise<void> };

interface Task {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A binary min-heap of tasks ordered by due time, then by scheduling order (FIFO for equal times). */
class TaskQueue {
  private readonly heap: Task[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(due: number, fn: () => void): Task {
    const task: Task = { due, seq: this.seq++, fn, cancelled: false };
    this.heap.push(task);
    this.up(this.heap.length - 1);
    return task;
  }

  /** The earliest live task, dropping cancelled ones on the way. */
  peek(): Task | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0];
  }

  pop(): Task | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top !== undefined && last !== undefined && this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  clear(): void {
    this.heap.length = 0;
  }

  private before(a: Task, b: Task): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private up(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(this.heap[i]!, this.heap[parent]!)) break;
      [this.heap[i], this.heap[parent]] = [this.heap[parent]!, this.heap[i]!];
      i = parent;
    }
  }

  private down(index: number): void {
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heap.length && this.before(this.heap[left]!, this.heap[smallest]!)) smallest = left;
      if (right < this.heap.length && this.before(this.heap[right]!, this.heap[smallest]!)) smallest = right;
      if (smallest === i) return;
      [this.heap[i], this.heap[smallest]] = [this.heap[smallest]!, this.heap[i]!];
      i = smallest;
    }
  }
}

/** Errors thrown by scheduled work are reported here instead of breaking the clock's loop. */
function runTask(task: Task, onError: (error: unknown) => void): void {
  try {
    task.fn();
  } catch (error) {
    onError(error);
  }
}

function reportTaskError(error: unknown): void {
  process.emitWarning(`sandbox clock task failed: ${error instanceof Error ? error.stack : String(error)}`);
}

/** Lets promise continuations (and the tasks they schedule) run before the next due task is picked. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function createManualClock(
  start: number,
  onError: (error: unknown) => void,
): ManualClock & { speed: number; stop(): void } {
  const queue = new TaskQueue();
  let now = start;
  let running: Promise<void> = Promise.resolve();

  async function advanceBy(ms: number): Promise<void> {
    const target = now + Math.max(0, ms);
    for (;;) {
      await settle();
      const next = queue.peek();
      if (next === undefined || next.due > target) break;
      queue.pop();
      now = Math.max(now, next.due);
      runTask(next, onError);
    }
    now = target;
    await settle();
  }

  return {
    speed: 0,
    now: () => now,
    after(ms, fn) {
      const task = queue.push(now + Math.max(0, ms), fn);
      return () => {
        task.cancelled = true;
      };
    },
    // Calls are serialised: a second advance() starts where the first one ends.
    advance(ms) {
      running = running.then(() => advanceBy(ms));
      return running;
    },
    stop() {
      queue.clear();
    },
  };
}

const FIRE_BUDGET_MS = 20;

function createScaledClock(start: number, speed: number, onError: (error: unknown) => void): Clock {
  const queue = new TaskQueue();
  const realStart = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const now = () => start + (performance.now() - realStart) * speed;

  // One real timer, set for the earliest task: tasks due at the same simulated time run in the order
  // they were scheduled, which separate setTimeout calls would not guarantee.
  function arm(): void {
    if (stopped) return;
    const next = queue.peek();
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (next === undefined) return;
    const delay = Math.max(0, (next.due - now()) / speed);
    timer = setTimeout(fire, Math.min(delay, 2 ** 31 - 1));
  }

  // Runs what is due, including work that due work schedules for "now" (a reconcile after a change),
  // for at most a few real milliseconds before letting I/O (the API server) have its turn.
  function fire(): void {
    timer = undefined;
    const started = performance.now();
    for (let next = queue.peek(); next !== undefined && next.due <= now(); next = queue.peek()) {
      queue.pop();
      runTask(next, onError);
      if (stopped) return;
      if (performance.now() - started > FIRE_BUDGET_MS) break;
    }
    arm();
  }

  return {
    speed,
    now,
    after(ms, fn) {
      const task = queue.push(now() + Math.max(0, ms), fn);
      if (queue.peek() === task) arm();
      return () => {
        task.cancelled = true;
      };
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      queue.clear();
    },
  };
}

export function createClock(options: ClockOptions = {}): Clock {
  const start = options.start ?? Date.now();
  const onError = options.onError ?? reportTaskError;
  if (options.manual) return createManualClock(start, onError);
  const speed = options.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new RangeError(`clock speed must be a positive number, got ${speed}`);
  return createScaledClock(start, speed, onError);
}

export function isManualClock(clock: SandboxClock): clock is ManualClock {
  return typeof (clock as Partial<ManualClock>).advance === "function";
}

/** A promise that resolves after `ms` of simulated time. */
export function sleep(clock: SandboxClock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.after(ms, resolve));
}
