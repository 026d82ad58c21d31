/**
 * The registry's lock, as data: one `coordination.k8s.io/v1` Lease in the registry's namespace, held by
 * the one command that changes the registry at a time (deploy, upgrade, backup restore and now). Who holds
 * it (user@host, pid, command) is in its annotations, so the refusal a second operator sees names them;
 * whether it is still held is decided from renewTime + leaseDurationSeconds, as Kubernetes' own leader
 * election decides it. Reading and writing it is steps/lock.ts's (with resourceVersion, so that of two
 * takers only one wins).
 */
import { UsageError } from "../../errors.js";

export const LOCK_LEASE_NAME = "registry-clouddrove-lock";

/**
 * How long a lease counts as held after its last renewal. A holder that died (kill -9, a lost laptop)
 * frees the lock after this; a live one renews every LOCK_RENEW_SECONDS, so a renewal that needs its
 * retries (a 30 s budget per call) still lands in time.
 */
export const LOCK_DURATION_SECONDS = 60;
export const LOCK_RENEW_SECONDS = 15;

export const LOCK_ANNOTATIONS = {
  holder: "clouddrove.io/lock-holder",
  pid: "clouddrove.io/lock-pid",
  command: "clouddrove.io/lock-command",
} as const;

/** Who takes the lock: the person and machine, the process, and what it runs. */
export interface LockHolder {
  /** user@host */
  who: string;
  pid: number;
  /** e.g. "upgrade --node ip-10-0-1-10…" */
  command: string;
  /** Unique per run: what the Lease's holderIdentity is, so a renewal can tell its own lease apart. */
  identity: string;
}

export interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** A Lease's MicroTime: RFC 3339 with microseconds, as the API server writes them. */
export function microTime(at: Date): string {
  return at.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** The Lease that says `holder` holds the lock from `now`; `previous` is the lease it replaces. */
export function heldLease(
  holder: LockHolder,
  namespace: string,
  now: Date,
  previous?: LeaseObject,
): LeaseObject {
  const transitions = previous?.spec?.leaseTransitions ?? 0;
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      name: LOCK_LEASE_NAME,
      namespace,
      ...(previous?.metadata?.resourceVersion ? { resourceVersion: previous.metadata.resourceVersion } : {}),
      annotations: {
        [LOCK_ANNOTATIONS.holder]: holder.who,
        [LOCK_ANNOTATIONS.pid]: String(holder.pid),
        [LOCK_ANNOTATIONS.command]: holder.command,
      },
    },
    spec: {
      holderIdentity: holder.identity,
      leaseDurationSeconds: LOCK_DURATION_SECONDS,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: previous ? transitions + 1 : 0,
    },
  };
}

/** The same lease, renewed at `now` (its resourceVersion is the one last written). */
export function renewedLease(lease: LeaseObject, now: Date): LeaseObject {
  return { ...lease, spec: { ...lease.spec, renewTime: microTime(now) } };
}

/** What a lease says about the lock at `now`. */
export type LockState =
  | { kind: "free" }
  | { kind: "held"; holder: HolderInfo; expiresAt: Date }
  | { kind: "expired"; holder: HolderInfo; expiredAt: Date };

export interface HolderInfo {
  identity: string;
  who: string;
  pid: string;
  command: string;
  since: string;
}

export function holderInfo(lease: LeaseObject): HolderInfo {
  const annotations = lease.metadata?.annotations ?? {};
  return {
    identity: lease.spec?.holderIdentity ?? "",
    who: annotations[LOCK_ANNOTATIONS.holder] ?? "someone",
    pid: annotations[LOCK_ANNOTATIONS.pid] ?? "?",
    command: annotations[LOCK_ANNOTATIONS.command] ?? "an unknown command",
    since: lease.spec?.acquireTime ?? lease.spec?.renewTime ?? "an unknown time",
  };
}

export function lockState(lease: LeaseObject | undefined, now: Date): LockState {
  if (!lease?.spec?.holderIdentity) return { kind: "free" };
  const renewed = Date.parse(lease.spec.renewTime ?? lease.spec.acquireTime ?? "");
  const duration = (lease.spec.leaseDurationSeconds ?? LOCK_DURATION_SECONDS) * 1000;
  const holder = holderInfo(lease);
  // A lease with no readable time cannot expire by the clock: only its holder frees it.
  if (Number.isNaN(renewed)) return { kind: "held", holder, expiresAt: new Date(8.64e15) };
  const end = new Date(renewed + duration);
  return end.getTime() <= now.getTime()
    ? { kind: "expired", holder, expiredAt: end }
    : { kind: "held", holder, expiresAt: end };
}

/** "alice@laptop (pid 4242) running `upgrade --node X` since 2026-…" */
export function describeHolder(holder: HolderInfo): string {
  return `${holder.who} (pid ${holder.pid}) running \`clouddrove ${holder.command}\` since ${holder.since}`;
}

/** The refusal when another run holds the lock (exit 2: nothing was changed). */
export function lockHeldError(
  holder: HolderInfo,
  namespace: string,
  waitedText: string | undefined,
): UsageError {
  const waited = waitedText ? ` (waited ${waitedText})` : "";
  return new UsageError(
    `Another clouddrove run is changing the registry in namespace ${namespace}${waited}: ${describeHolder(holder)}. Nothing was changed.`,
    {
      details: [
        `lock: Lease ${namespace}/${LOCK_LEASE_NAME} (kubectl -n ${namespace} get lease ${LOCK_LEASE_NAME} -o yaml)`,
      ],
      hint: "Wait for it with --wait-for-lock DURATION (e.g. --wait-for-lock 10m; CLOUDDROVE_TIMEOUTS_LOCK, file key timeouts.lock), or run again once it has finished.",
    },
  );
}

/** Said when an expired lease is taken over: its holder stopped renewing (it died or lost the cluster). */
export function takeoverNotice(holder: HolderInfo, expiredAt: Date): string {
  return `took over the registry lock from ${describeHolder(holder)}: it expired at ${expiredAt.toISOString()} (that run stopped renewing it); check that nothing it did was left half-done.`;
}
