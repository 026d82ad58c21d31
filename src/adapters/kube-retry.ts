/**
 * The retry policy of every Kubernetes API call (kube.ts `request` is its one user): a call that fails
 * transiently is tried again after an exponential backoff with full jitter — a random pause below a
 * ceiling that starts at `baseDelayMs` and doubles up to `maxDelayMs` — and never sooner than the
 * server's Retry-After. It keeps trying while the next attempt would start within the call's time budget
 * (30 s from its first attempt by default), then gives up with the last failure. Ctrl-C (the signal) stops
 * it at once, during an attempt or a pause. The clock is a parameter so that tests run it on fake time.
 */
import { InterruptedError } from "../errors.js";
import { scopedSignal, sleep, untilAborted } from "./abort.js";

export interface RetryPolicy {
  /** How long one call may keep trying, from the start of its first attempt (ms); 0: one attempt. */
  budgetMs: number;
  /** The ceiling of the first pause; each retry doubles it (ms). */
  baseDelayMs: number;
  /** The largest ceiling (ms). */
  maxDelayMs: number;
}

/**
 * 30 s covers an API server restart or an etcd leader election. Pauses drawn below 200 ms, 400 ms, 800 ms,
 * 1.6 s and then 2 s leave room for 18 attempts in 30 s even when every draw is at its ceiling (17 when
 * each pause is at least a Retry-After of 1 s; some 33 and 25 on average). So a control plane answering
 * 30% of requests with 503 fails a call with a chance below 0.3^18 (4e-10), and one answering half of them
 * with 429 below 0.5^17 (8e-6) at worst, about 0.5^25 (3e-8) on average.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { budgetMs: 30_000, baseDelayMs: 200, maxDelayMs: 2_000 };

export interface Clock {
  now(): number;
  /** Resolves after `ms`; rejects with InterruptedError when `signal` fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** In [0, 1). */
  random(): number;
}

export const systemClock: Clock = { now: () => Date.now(), sleep, random: Math.random };

/** What a failure means for the call: try again (not sooner than retryAfterMs), or stop. */
export type Verdict = { retry: false } | { retry: true; retryAfterMs?: number };

/** The pause before retry number `retry` (1 for the first retry). */
export function backoffDelayMs(
  policy: RetryPolicy,
  retry: number,
  random: () => number,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}

export interface RetryOutcome {
  /** Attempts made, the failed last one included. */
  attempts: number;
  elapsedMs: number;
  /** The budget ran out on a failure that was worth retrying. */
  exhausted: boolean;
}

export interface RetryOptions {
  policy: RetryPolicy;
  clock?: Clock;
  signal?: AbortSignal;
  /** Epoch ms (on the clock) after which no attempt starts, when sooner than the budget's end. */
  deadline?: number;
  classify(error: unknown): Verdict;
  /** The error to throw for the failure that ends the call (the place to translate it). */
  fail(error: unknown, outcome: RetryOutcome): Error;
}

/**
 * Runs `attempt` until it succeeds, a failure is not worth retrying, the budget (or the deadline) has no
 * room for another attempt, or the signal fires (InterruptedError, at once).
 */
export async function retrying<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const end = Math.min(started + options.policy.budgetMs, options.deadline ?? Number.POSITIVE_INFINITY);
  // One signal for this call: what it listens for is removed from it after each attempt and pause.
  const signal = scopedSignal(options.signal);
  for (let attempts = 1; ; attempts++) {
    if (signal?.aborted) throw new InterruptedError();
    try {
      return await untilAborted(attempt(), signal);
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      const verdict = options.classify(error);
      const outcome = { attempts, elapsedMs: clock.now() - started, exhausted: false };
      if (!verdict.retry) throw options.fail(error, outcome);
      const delay = backoffDelayMs(options.policy, attempts, clock.random, verdict.retryAfterMs);
      // Another attempt only if it would start before the end (a zero budget: one attempt).
      if (clock.now() + delay >= end) throw options.fail(error, { ...outcome, exhausted: true });
      await clock.sleep(delay, signal);
    }
  }
}
