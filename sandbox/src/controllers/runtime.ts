/**
 * What every simulated controller shares: the context (store, clock, event recorder, names), a work
 * queue that turns store events into deduplicated reconcile calls on the clock, and small helpers for
 * reading and writing objects without ever writing what did not change (a write wakes every watcher,
 * including the writer, so an unchanged write would loop).
 */
import { timestamp } from "../api/json.js";
import { ApiError, type KubeObject, type ObjectStore, type SandboxClock } from "../types.js";
import type { EventRecorder } from "./events.js";

export interface ControllerContext {
  store: ObjectStore;
  clock: SandboxClock;
  events: EventRecorder;
  names: NameGenerator;
  /** Errors controllers hit while reconciling (bounded); tests assert it stays empty. */
  errors: ControllerError[];
  /** Cancel functions of everything the controllers scheduled or subscribed to. */
  cleanups: Array<() => void>;
}

export interface ControllerError {
  controller: string;
  key: string;
  time: number;
  message: string;
}

const MAX_ERRORS = 200;

/**
 * Errors a controller meets in normal operation and need not report: a write lost to a newer one (409,
 * looked at again), an object or namespace gone meanwhile (404), a namespace being deleted (403).
 */
export function isExpectedError(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  if (error.code === 409 || error.code === 404) return true;
  const causes = (error.details?.causes ?? []) as Array<{ reason?: string }>;
  return error.code === 403 && causes.some((c) => c.reason === "NamespaceTerminating");
}

export function recordError(ctx: ControllerContext, controller: string, key: string, error: unknown): void {
  ctx.errors.push({
    controller,
    key,
    time: ctx.clock.now(),
    message: error instanceof Error ? error.message : String(error),
  });
  if (ctx.errors.length > MAX_ERRORS) ctx.errors.shift();
  if (process.env.CLOUDDROVE_SANDBOX_DEBUG) {
    process.stderr.write(
      `[sandbox ${controller}] ${key}: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
  }
}

/**
 * Keys to reconcile, deduplicated, run on the clock right after the change that queued them (so a
 * burst of events becomes one pass). A failing key is retried with back-off, a few times.
 */
export class WorkQueue {
  private pending = new Set<string>();
  private scheduled = false;
  private stopped = false;
  private readonly delayed = new Map<string, { due: number; cancel: () => void }>();
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly ctx: ControllerContext,
    readonly name: string,
    private readonly handler: (key: string) => void,
  ) {
    ctx.cleanups.push(() => this.stop());
  }

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      this.ctx.clock.after(0, () => this.flush());
    }
  }

  /** Reconciles `key` after `ms` of simulated time (the earliest of several requests wins). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = this.ctx.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.due <= due) return;
    existing?.cancel();
    const cancel = this.ctx.clock.after(ms, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { due, cancel });
  }

  stop(): void {
    this.stopped = true;
    for (const { cancel } of this.delayed.values()) cancel();
    this.delayed.clear();
    this.pending.clear();
  }

  private flush(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      try {
        this.handler(key);
        this.failures.delete(key);
      } catch (error) {
        const attempts = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, attempts);
        // A conflict means someone else wrote first: simply look again. Anything unexpected is a bug or
        // a rejection worth recording; retry a few times with back-off, then wait for the next event.
        if (!isExpectedError(error)) recordError(this.ctx, this.name, key, error);
        if (attempts <= 5) this.addAfter(key, 1000 * 2 ** (attempts - 1));
        else this.failures.delete(key);
      }
    }
  }
}

/** Random-looking but reproducible names: the same sandbox run makes the same names. */
export class NameGenerator {
  private state: number;

  constructor(seed = 0x2545f491) {
    this.state = seed >>> 0 || 1;
  }

  private next(): number {
    // xorshift32
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  /** Kubernetes' utilrand.String alphabet: no vowels, no confusable characters. */
  suffix(length = 5): string {
    const alphabet = "bcdfghjklmnpqrstvwxz2456789";
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[this.next() % alphabet.length];
    return out;
  }

  hex(length: number): string {
    let out = "";
    while (out.length < length) out += this.next().toString(16).padStart(8, "0");
    return out.slice(0, length);
  }

  int(below: number): number {
    return this.next() % below;
  }

  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

// --- Objects -------------------------------------------------------------------------------------

export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** JSON with sorted keys: equal objects give equal strings whatever order their keys were set in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a ?? null) === canonical(b ?? null);
}

/** RFC 3339 with seconds, as the API server writes metav1.Time: the API layer's, one format for both. */
export { timestamp };

export function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function keyOf(object: KubeObject): string {
  return object.metadata.namespace
    ? `${object.metadata.namespace}/${object.metadata.name}`
    : object.metadata.name;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf("/");
  return slash < 0
    ? { namespace: undefined, name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function controllerOf(object: KubeObject): { kind: string; name: string; uid: string } | undefined {
  return (object.metadata.ownerReferences ?? []).find((o) => o.controller === true);
}

export function ownerReference(
  owner: KubeObject,
): NonNullable<KubeObject["metadata"]["ownerReferences"]>[number] {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * Reads the latest object, lets `mutate` edit a copy, and writes the copy only when the part of it this
 * write covers differs from what is stored. Returns the stored object (updated or not), or undefined when
 * it is gone.
 */
type Patch = (
  ctx: ControllerContext,
  kind: string,
  namespace: string | undefined,
  name: string,
  mutate: (object: KubeObject) => void,
) => KubeObject | undefined;

function patcher(
  covered: (object: KubeObject) => unknown,
  write: (ctx: ControllerContext, next: KubeObject) => KubeObject,
): Patch {
  return (ctx, kind, namespace, name, mutate) => {
    const current = ctx.store.get(kind, namespace, name);
    if (current === undefined) return undefined;
    const next = clone(current);
    mutate(next);
    if (sameJson(covered(next), covered(current))) return current;
    return write(ctx, next);
  };
}

/** Writes `.status` only when it differs from what is stored; `mutate` edits a fresh copy of the latest object. */
export const patchStatus: Patch = patcher(
  (object) => object.status,
  (ctx, next) => ctx.store.updateStatus(next),
);

/** Like patchStatus, for the object itself (spec, metadata). */
export const patchObject: Patch = patcher(
  (object) => ({ ...object, status: undefined }),
  (ctx, next) => ctx.store.update(next),
);

/** Creates an object, trying a fresh name suffix when a generated name is already taken. */
export function createWithGeneratedName(
  ctx: ControllerContext,
  prefix: string,
  build: (name: string) => KubeObject,
): KubeObject {
  for (let attempt = 0; ; attempt++) {
    try {
      return ctx.store.create(build(`${prefix}${ctx.names.suffix()}`));
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 409 && attempt < 10)) throw error;
    }
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.code === 404;
}

/** Deletes, treating "already gone" as done. */
export function deleteQuietly(
  ctx: ControllerContext,
  kind: string,
  namespace: string | undefined,
  name: string,
  options?: Parameters<ObjectStore["delete"]>[3],
): void {
  try {
    ctx.store.delete(kind, namespace, name, options);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: conditions of any kind
export type Condition = { type: string; status: string; [field: string]: any };

/**
 * Sets a condition the way the API machinery does: lastTransitionTime moves only when the status
 * changes. Returns the new list.
 */
export function setCondition(conditions: Condition[] | undefined, next: Condition, now: number): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === next.type);
  const existing = index >= 0 ? list[index] : undefined;
  const transition =
    existing && existing.status === next.status ? existing.lastTransitionTime : timestamp(now);
  const merged: Condition = { ...next, lastTransitionTime: next.lastTransitionTime ?? transition };
  if (index >= 0) list[index] = merged;
  else list.push(merged);
  return list;
}

export function getCondition(object: KubeObject, type: string): Condition | undefined {
  return (object.status?.conditions ?? []).find((c: Condition) => c.type === type);
}

export function ignoreErrors(ctx: ControllerContext, controller: string, key: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    recordError(ctx, controller, key, error);
  }
}
