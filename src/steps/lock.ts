/**
 * Taking, keeping and freeing the registry's lock (core/lock/lease.ts says what the Lease holds). Taking it
 * is read, then create or replace at the version read: when two runs race, the server takes one write
 * and answers the other 409, and the loser reads again and sees the winner. While the command runs the
 * lease is renewed every LOCK_RENEW_SECONDS; at the end (success, failure or Ctrl-C) it is deleted at the
 * version last written, so a lock taken over meanwhile is left to its new holder.
 */
import type { V1Lease, V1Namespace } from "@kubernetes/client-node";
import { sleep } from "../adapters/abort.js";
import { Kinds, named } from "../adapters/kube-kinds.js";
import { createLease, createNamespace, deleteLease, replaceLease } from "../adapters/kube-lease.js";
import type { Kube } from "../adapters/kube-types.js";
import {
  heldLease,
  type LeaseObject,
  LOCK_LEASE_NAME,
  LOCK_RENEW_SECONDS,
  type LockHolder,
  lockHeldError,
  lockState,
  renewedLease,
  takeoverNotice,
} from "../core/lock/lease.js";
import { UsageError } from "../errors.js";

export interface LockOptions {
  /** How long to wait while another run holds the lock; 0: refuse at once. */
  waitMs: number;
  /** The wait as the user wrote it, for the refusal ("waited 10m"). */
  waitText?: string;
  signal?: AbortSignal;
  /** Told once when the lock is held by another run and this one waits. */
  onWait?: (message: string) => void;
  /** Told when an expired lease was taken over, and when renewing the lock failed. */
  onNotice?: (message: string) => void;
  /** How often the wait looks at the lease again (ms). */
  pollMs?: number;
  /** How often the lease is renewed (ms); default LOCK_RENEW_SECONDS. */
  renewMs?: number;
  /**
   * The namespace to create when it does not exist yet (a first deploy): the lock lives in it, so it is
   * made first and the lock taken in it before anything else is written.
   */
  createNamespace?: V1Namespace;
}

export interface HeldLock {
  /** This run created the namespace to hold the lock (a first deploy). */
  readonly createdNamespace: boolean;
  /**
   * Stops renewing and deletes the lease (if it is still this run's). With `removeNamespace` (a first
   * deploy that wrote nothing else), the namespace this run created goes too. Never throws.
   */
  release(options?: { removeNamespace?: boolean }): Promise<void>;
}

const asLease = (lease: LeaseObject) => lease as V1Lease;

/**
 * Without the namespace there is no registry to change yet and nothing to hold a lock in: the commands
 * other than deploy stop at their own checks, which name what is missing. The first deploy passes
 * `createNamespace` and so never gets here: it makes the namespace and locks in it like any other run.
 */
const NOTHING_TO_LOCK: HeldLock = { createdNamespace: false, release: async () => {} };

function namespaceBeingDeleted(namespace: string): UsageError {
  return new UsageError(
    `Namespace ${namespace} is being deleted (a deploy that was refused removes the namespace it had created); nothing was changed.`,
    { hint: `Run the same command again once \`kubectl get namespace ${namespace}\` says it is gone.` },
  );
}

/** Takes the lock for `holder`, waiting up to `options.waitMs` while another run holds it. */
export async function acquireLock(
  kube: Kube,
  namespace: string,
  holder: LockHolder,
  options: LockOptions,
): Promise<HeldLock> {
  const deadline = Date.now() + options.waitMs;
  const pause = () =>
    sleep(Math.min(options.pollMs ?? 1000, Math.max(1, deadline - Date.now())), options.signal);
  let told = false;
  let createdNamespace = false;
  for (;;) {
    const current = (await kube.get(named(Kinds.Lease, LOCK_LEASE_NAME, namespace))) as
      | LeaseObject
      | undefined;
    const now = new Date();
    const state = lockState(current, now);
    if (state.kind === "held" && state.holder.identity !== holder.identity) {
      // The lease expires by the clock, which no watch event announces: the wait reads it again.
      if (Date.now() >= deadline) throw lockHeldError(state.holder, namespace, options.waitText);
      if (!told) {
        options.onWait?.(
          `waiting for the registry lock (up to ${options.waitText ?? `${options.waitMs} ms`}): ${lockHeldError(state.holder, namespace, undefined).message.replace(/ Nothing was changed\.$/, "")}`,
        );
        told = true;
      }
      await pause();
      continue;
    }
    const wanted = heldLease(holder, namespace, now, current);
    const written = current
      ? await replaceLease(kube, asLease(wanted))
      : await createLease(kube, asLease(wanted));
    if (written === "no-namespace") {
      if (!options.createNamespace) return NOTHING_TO_LOCK;
      // Of two first deploys both may get here; the server creates the namespace once, the Lease once.
      if ((await createNamespace(kube, options.createNamespace)) === "created") createdNamespace = true;
      continue;
    }
    if (written === "namespace-terminating") {
      if (Date.now() >= deadline) throw namespaceBeingDeleted(namespace);
      await pause();
      continue;
    }
    // Another run wrote first: read again and see who holds it now.
    if (!written || written === "taken") continue;
    if (state.kind === "expired") options.onNotice?.(takeoverNotice(state.holder, state.expiredAt));
    return keep(kube, written as LeaseObject, options, createdNamespace);
  }
}

/** Renews the lease while the command runs; release() stops that and frees it. */
function keep(kube: Kube, taken: LeaseObject, options: LockOptions, createdNamespace: boolean): HeldLock {
  let lease = taken;
  let lost = false;
  let renewing: Promise<void> = Promise.resolve();
  const renew = async () => {
    if (lost) return;
    try {
      const written = await replaceLease(kube, asLease(renewedLease(lease, new Date())));
      if (written) lease = written as LeaseObject;
      else {
        lost = true;
        options.onNotice?.(
          "the registry lock was taken over by another run (this one could not renew it in time); finish or stop this run before the other goes on.",
        );
      }
    } catch (error) {
      // A renewal that fails is tried again at the next interval, well before the lease expires.
      options.onNotice?.(`renewing the registry lock failed: ${(error as Error).message}`);
    }
  };
  const timer = setInterval(
    () => {
      renewing = renewing.then(renew);
    },
    options.renewMs ?? LOCK_RENEW_SECONDS * 1000,
  );
  // The renewal never keeps the process alive on its own.
  timer.unref();
  return {
    createdNamespace,
    async release(how = {}) {
      clearInterval(timer);
      await renewing;
      if (lost) return;
      const { namespace = "", name = LOCK_LEASE_NAME, resourceVersion = "" } = lease.metadata ?? {};
      try {
        await deleteLease(kube, namespace, name, resourceVersion);
      } catch (error) {
        options.onNotice?.(
          `the registry lock could not be freed (${(error as Error).message}); it expires by itself within a minute.`,
        );
        return;
      }
      if (!(how.removeNamespace && createdNamespace)) return;
      try {
        await kube.delete(named(Kinds.Namespace, namespace));
      } catch (error) {
        options.onNotice?.(
          `the namespace ${namespace} this run created could not be removed (${(error as Error).message}); \`kubectl delete namespace ${namespace}\` removes it.`,
        );
      }
    },
  };
}
