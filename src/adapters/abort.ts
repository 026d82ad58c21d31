/**
 * Waiting that Ctrl-C stops at once: a pause, and any promise raced against the command's AbortSignal.
 * Every listener these add to a signal is removed when the wait ends, however it ends, so a signal that
 * outlives many waits (the command's) never collects listeners.
 */
import { InterruptedError } from "../errors.js";

/** Resolves after `ms`; rejects with InterruptedError as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * `promise`'s outcome, or InterruptedError as soon as `signal` fires (the promise then runs on unobserved:
 * its outcome is handled, never an unhandled rejection).
 */
export function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      promise.catch(() => {});
      return reject(new InterruptedError());
    }
    const onAbort = () => reject(new InterruptedError());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * A signal of one operation's own that fires with `signals` (any of them): listeners added to it are not
 * listeners of the command's signal, so many operations at once (a Promise.all of eleven reads, each
 * pausing between retries) never add up to a MaxListenersExceededWarning on it.
 */
export function scopedSignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const given = signals.filter((s): s is AbortSignal => s !== undefined);
  return given.length === 0 ? undefined : AbortSignal.any(given);
}
