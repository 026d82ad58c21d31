/**
 * src/adapters/kube-retry.ts: the retry policy of every Kubernetes API call, on a fake clock — the budget,
 * full jitter, Retry-After, Ctrl-C — and that concurrent calls put no listener on the command's signal.
 */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { sleep } from "../../src/adapters/abort.js";
import {
  backoffDelayMs,
  type Clock,
  DEFAULT_RETRY_POLICY,
  type RetryOptions,
  type RetryOutcome,
  retrying,
  type Verdict,
} from "../../src/adapters/kube-retry.js";
import { InterruptedError } from "../../src/errors.js";

/** Time that moves only when the code under test sleeps; every pause is recorded. */
function fakeClock(random: () => number, start = 1_000_000) {
  const pauses: number[] = [];
  let now = start;
  const clock: Clock = {
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw new InterruptedError();
      pauses.push(ms);
      now += ms;
    },
    random,
  };
  return { clock, pauses, elapsed: () => now - start };
}

class Transient extends Error {}
class Permanent extends Error {}

function options(clock: Clock, extra: Partial<RetryOptions> = {}, verdict?: Verdict) {
  const ended: RetryOutcome[] = [];
  const opts: RetryOptions = {
    policy: DEFAULT_RETRY_POLICY,
    clock,
    classify: (error) => verdict ?? (error instanceof Transient ? { retry: true } : { retry: false }),
    fail: (error, outcome) => {
      ended.push(outcome);
      return error as Error;
    },
    ...extra,
  };
  return { opts, ended };
}

/** An attempt that fails with `failures` in turn, then succeeds with "ok"; counts its calls. */
function attempts(...failures: Error[]) {
  let calls = 0;
  const run = async () => {
    const failure = failures[calls++];
    if (failure) throw failure;
    return "ok";
  };
  return { run, calls: () => calls };
}

describe("the retry policy", () => {
  it("draws each pause below a ceiling that doubles from 200 ms up to 2 s (full jitter)", () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 9].map((retry) =>
      backoffDelayMs(DEFAULT_RETRY_POLICY, retry, () => 0.5),
    );
    expect(ceilings).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(backoffDelayMs(DEFAULT_RETRY_POLICY, 3, () => 0)).toBe(0);
    expect(backoffDelayMs(DEFAULT_RETRY_POLICY, 3, () => 0.999_999)).toBe(799);
  });

  it("retries a transient failure until it succeeds", async () => {
    const { clock, pauses } = fakeClock(() => 0.5);
    const call = attempts(new Transient("503"), new Transient("503"), new Transient("reset"));
    const { opts, ended } = options(clock);
    expect(await retrying(call.run, opts)).toBe("ok");
    expect(call.calls()).toBe(4);
    expect(pauses).toEqual([100, 200, 400]);
    expect(ended).toEqual([]);
  });

  it("gives up once the next attempt would start after the 30 s budget, with the last failure", async () => {
    // Every draw at its ceiling: the fewest attempts the budget allows.
    const { clock, pauses, elapsed } = fakeClock(() => 0.999_999);
    const last = new Transient("still 503");
    const { opts, ended } = options(clock);
    let calls = 0;
    const error = await retrying(async () => {
      calls++;
      throw calls < 1000 ? new Transient("503") : last;
    }, opts).catch((e) => e);
    expect(error).toBeInstanceOf(Transient);
    expect(pauses).toEqual([199, 399, 799, 1599, ...Array(13).fill(1999)]);
    expect(calls).toBe(18);
    expect(elapsed()).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.budgetMs);
    // The next pause would have ended past the budget.
    expect(elapsed() + 1999).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.budgetMs);
    expect(ended).toEqual([{ attempts: 18, elapsedMs: elapsed(), exhausted: true }]);
  });

  it("a configured budget and a deadline sooner than it both end the retries", async () => {
    const short = fakeClock(() => 0.5);
    const policy = { ...DEFAULT_RETRY_POLICY, budgetMs: 1_000 };
    const forever = async () => {
      throw new Transient("503");
    };
    await expect(retrying(forever, options(short.clock, { policy }).opts)).rejects.toBeInstanceOf(Transient);
    expect(short.pauses).toEqual([100, 200, 400]);

    const dated = fakeClock(() => 0.5, 5_000);
    const deadline = 5_000 + 350;
    await expect(retrying(forever, options(dated.clock, { deadline }).opts)).rejects.toBeInstanceOf(
      Transient,
    );
    expect(dated.pauses).toEqual([100, 200]);
  });

  it("a budget of 0 makes one attempt", async () => {
    const { clock, pauses } = fakeClock(() => 0);
    const call = attempts(new Transient("503"));
    const { opts, ended } = options(clock, { policy: { ...DEFAULT_RETRY_POLICY, budgetMs: 0 } });
    await expect(retrying(call.run, opts)).rejects.toBeInstanceOf(Transient);
    expect(call.calls()).toBe(1);
    expect(pauses).toEqual([]);
    expect(ended).toEqual([{ attempts: 1, elapsedMs: 0, exhausted: true }]);
  });

  it("never retries sooner than Retry-After, and gives up when Retry-After goes past the budget", async () => {
    const { clock, pauses } = fakeClock(() => 0.5);
    const call = attempts(new Transient("429"), new Transient("429"));
    const { opts } = options(clock, {}, { retry: true, retryAfterMs: 3_000 });
    expect(await retrying(call.run, opts)).toBe("ok");
    expect(pauses).toEqual([3_000, 3_000]);

    // A ceiling above Retry-After: the jittered pause wins when it is longer.
    const later = fakeClock(() => 0.999_999);
    const five = attempts(...Array(5).fill(new Transient("429")));
    await retrying(five.run, options(later.clock, {}, { retry: true, retryAfterMs: 1_000 }).opts);
    expect(later.pauses).toEqual([1_000, 1_000, 1_000, 1_599, 1_999]);

    const far = fakeClock(() => 0.5);
    const refused = attempts(new Transient("429"));
    const { opts: farOpts, ended } = options(far.clock, {}, { retry: true, retryAfterMs: 40_000 });
    await expect(retrying(refused.run, farOpts)).rejects.toBeInstanceOf(Transient);
    expect(far.pauses).toEqual([]);
    expect(ended).toEqual([{ attempts: 1, elapsedMs: 0, exhausted: true }]);
  });

  it("does not retry a failure that is not transient", async () => {
    const { clock, pauses } = fakeClock(() => 0.5);
    const call = attempts(new Permanent("404"));
    const { opts, ended } = options(clock);
    await expect(retrying(call.run, opts)).rejects.toBeInstanceOf(Permanent);
    expect(call.calls()).toBe(1);
    expect(pauses).toEqual([]);
    expect(ended).toEqual([{ attempts: 1, elapsedMs: 0, exhausted: false }]);
  });
});

describe("Ctrl-C", () => {
  it("stops a call at once during a pause, however long the pause", async () => {
    const controller = new AbortController();
    const clock: Clock = { now: () => 0, sleep, random: () => 0.5 };
    let calls = 0;
    const running = retrying(
      async () => {
        calls++;
        setImmediate(() => controller.abort());
        throw new Transient("503");
      },
      // An hour's Retry-After: only the abort can end this pause.
      options(
        clock,
        { signal: controller.signal, policy: { ...DEFAULT_RETRY_POLICY, budgetMs: 7_200_000 } },
        {
          retry: true,
          retryAfterMs: 3_600_000,
        },
      ).opts,
    );
    await expect(running).rejects.toBeInstanceOf(InterruptedError);
    expect(calls).toBe(1);
  });

  it("stops a call at once during an attempt that never answers", async () => {
    const controller = new AbortController();
    const running = retrying(() => new Promise<never>(() => {}), {
      ...options(fakeClock(() => 0.5).clock).opts,
      signal: controller.signal,
    });
    setImmediate(() => controller.abort());
    await expect(running).rejects.toBeInstanceOf(InterruptedError);
  });

  it("makes no attempt once the signal has fired", async () => {
    const controller = new AbortController();
    controller.abort();
    const call = attempts();
    await expect(
      retrying(call.run, { ...options(fakeClock(() => 0.5).clock).opts, signal: controller.signal }),
    ).rejects.toBeInstanceOf(InterruptedError);
    expect(call.calls()).toBe(0);
  });

  it("concurrent calls that keep failing put no listener on the command's signal", async () => {
    const command = new AbortController();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on("warning", onWarning);
    let most = 0;
    let now = 0;
    // Real abortable pauses of 0 ms (each adds and removes a listener), on a clock that jumps ahead.
    const clock: Clock = {
      now: () => now,
      sleep: async (ms, signal) => {
        most = Math.max(most, getEventListeners(command.signal, "abort").length);
        now += ms;
        await sleep(0, signal);
      },
      random: () => 0.5,
    };
    try {
      const calls = Array.from({ length: 20 }, () =>
        retrying(
          async () => {
            await new Promise((resolve) => setImmediate(resolve));
            throw new Transient("500");
          },
          { ...options(clock).opts, signal: command.signal },
        ).catch((error: unknown) => error),
      );
      const errors = await Promise.all(calls);
      expect(errors.every((e) => e instanceof Transient)).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(most).toBe(0);
    expect(getEventListeners(command.signal, "abort")).toHaveLength(0);
    expect(warnings.filter((w) => w.includes("MaxListenersExceededWarning"))).toEqual([]);
  });
});
