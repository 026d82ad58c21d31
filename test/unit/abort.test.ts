/**
 * src/adapters/abort.ts: pauses and races that Ctrl-C ends at once, and that leave no listener behind on
 * the signal however they end.
 */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { scopedSignal, sleep, untilAborted } from "../../src/adapters/abort.js";
import { InterruptedError } from "../../src/errors.js";

const listeners = (signal: AbortSignal) => getEventListeners(signal, "abort").length;

describe("abortable waiting", () => {
  it("a pause ends on its own or with the signal, and removes its listener either way", async () => {
    const controller = new AbortController();
    await sleep(0, controller.signal);
    expect(listeners(controller.signal)).toBe(0);
    const long = sleep(3_600_000, controller.signal);
    expect(listeners(controller.signal)).toBe(1);
    controller.abort();
    await expect(long).rejects.toBeInstanceOf(InterruptedError);
    expect(listeners(controller.signal)).toBe(0);
    await expect(sleep(0, controller.signal)).rejects.toBeInstanceOf(InterruptedError);
  });

  it("a race gives the promise's outcome, or InterruptedError when the signal fires first", async () => {
    const controller = new AbortController();
    expect(await untilAborted(Promise.resolve(7), controller.signal)).toBe(7);
    await expect(untilAborted(Promise.reject(new Error("503")), controller.signal)).rejects.toThrow("503");
    expect(listeners(controller.signal)).toBe(0);
    const never = untilAborted(new Promise<never>(() => {}), controller.signal);
    controller.abort();
    await expect(never).rejects.toBeInstanceOf(InterruptedError);
    // Already aborted: at once, and the promise's later failure is not an unhandled rejection.
    await expect(untilAborted(Promise.reject(new Error("late")), controller.signal)).rejects.toBeInstanceOf(
      InterruptedError,
    );
  });

  it("a scoped signal fires with the command's, without listening on it", () => {
    const command = new AbortController();
    const other = new AbortController();
    const scoped = scopedSignal(command.signal, undefined, other.signal) as AbortSignal;
    scoped.addEventListener("abort", () => {});
    expect(listeners(command.signal)).toBe(0);
    expect(scoped.aborted).toBe(false);
    command.abort();
    expect(scoped.aborted).toBe(true);
    expect(scopedSignal(undefined)).toBeUndefined();
  });
});
