/**
 * AWS has no watch API: waiting for an EFS file system or mount target means asking again. One deadline
 * for the whole wait, a fixed interval, and an abort signal so Ctrl-C stops it.
 */
import { OperationError } from "../../errors.js";
import { sleep } from "../abort.js";

export interface PollOptions {
  /** What is awaited, for the timeout message: "file system fs-1 to become available". */
  what: string;
  timeoutMs: number;
  intervalMs: number;
  /** When set, the interval doubles after each look, up to this (quick at first, patient later). */
  maxIntervalMs?: number;
  signal?: AbortSignal;
}

/** Calls `check` until it returns a value (not undefined), or fails at the deadline. */
export async function pollUntil<T>(check: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.intervalMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      throw new OperationError(`Timed out waiting for ${options.what}.`, {
        hint: "AWS is slow or the resource is stuck; check it in the AWS console, then run the command again.",
      });
    }
    await sleep(interval, options.signal);
    if (options.maxIntervalMs) interval = Math.min(interval * 2, options.maxIntervalMs);
  }
}
