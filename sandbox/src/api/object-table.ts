/**
 * The object table under the store: objects by kind and key, the one resourceVersion counter, change
 * events and their history, and the read side of the API (get, list with paging, watch). Objects in it
 * are deep-frozen and shared. store.ts builds the write side (admission, deletion rules) on top.
 */

import { type ServedType, servedTypeOf } from "../resources.js";
import { matchesFields, matchesRequirements, parseFieldSelector, parseLabelSelector } from "../selectors.js";
import type { KubeObject, ListOptions, SandboxClock, WatchEvent } from "../types.js";
import { type ChangeEntry, EventBus } from "./event-bus.js";
import { cloneJson, deepFreeze, timestamp } from "./json.js";
import { badRequest, notFoundError } from "./status-errors.js";

export interface MemoryStoreOptions {
  clock?: Pick<SandboxClock, "now">;
  /** Change events kept per kind for watches from an older resourceVersion (default 5000). */
  historyLimit?: number;
  /** Create what a fresh API server has: default, kube-system, kube-public, kube-node-lease (default true). */
  bootstrap?: boolean;
  /** A listener (controller, watch) threw; default: rethrown asynchronously so it is not lost. */
  onListenerError?: (error: unknown) => void;
}

export interface ListPageOptions extends ListOptions {
  limit?: number;
  continue?: string;
}

export interface ListPage {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchOptions extends ListOptions {
  /** Unset or "0": start with ADDED for every current object; otherwise replay changes after it. */
  resourceVersion?: string;
}

export interface StoreSnapshot {
  resourceVersion: number;
  objects: KubeObject[];
}

export class ObjectTable {
  protected readonly objects = new Map<string, Map<string, KubeObject>>();
  protected rv = 0;
  protected readonly bus: EventBus;
  protected readonly clock: Pick<SandboxClock, "now">;

  constructor(options: MemoryStoreOptions = {}) {
    this.clock = options.clock ?? { now: () => Date.now() };
    const onError =
      options.onListenerError ??
      ((error: unknown) =>
        queueMicrotask(() => {
          throw error;
        }));
    this.bus = new EventBus(options.historyLimit ?? 5000, onError);
  }

  typeOf(kind: string, apiVersion?: string): ServedType {
    return servedTypeOf(kind, apiVersion);
  }

  /** The store's current resourceVersion (what a list returns as its metadata.resourceVersion). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  protected bucket(kind: string): Map<string, KubeObject> {
    let bucket = this.objects.get(kind);
    if (bucket === undefined) {
      bucket = new Map();
      this.objects.set(kind, bucket);
    }
    return bucket;
  }

  protected key(type: ServedType, namespace: string | undefined, name: string): string {
    return type.namespaced ? `${namespace ?? ""}/${name}` : `/${name}`;
  }

  protected now(offsetMs = 0): string {
    return timestamp(this.clock.now() + offsetMs);
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const type = this.typeOf(kind);
    if (type.namespaced && namespace === undefined) return undefined;
    return this.bucket(type.kind).get(this.key(type, namespace, name));
  }

  /** Like get, but a missing object is the real 404 (`deployments.apps "web" not found`). */
  getOrThrow(kind: string, namespace: string | undefined, name: string): KubeObject {
    const found = this.get(kind, namespace, name);
    if (found === undefined) throw notFoundError(this.typeOf(kind), name);
    return found;
  }

  protected matcher(kind: string, options: ListOptions): (object: KubeObject) => boolean {
    const labels = parseLabelSelector(options.labelSelector);
    const fields = parseFieldSelector(kind, options.fieldSelector);
    const namespace = options.namespace;
    return (object) =>
      (namespace === undefined || object.metadata.namespace === namespace) &&
      matchesRequirements(labels, object.metadata.labels) &&
      matchesFields(fields, object);
  }

  protected sortedEntries(kind: string): Array<[string, KubeObject]> {
    return [...this.bucket(kind)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  list(kind: string, options: ListOptions = {}): KubeObject[] {
    const type = this.typeOf(kind);
    const matches = this.matcher(type.kind, options);
    return this.sortedEntries(type.kind)
      .map(([, object]) => object)
      .filter(matches);
  }

  /** A list with limit/continue paging, as the HTTP list verb serves it. */
  listPage(kind: string, options: ListPageOptions = {}): ListPage {
    const type = this.typeOf(kind);
    const matches = this.matcher(type.kind, options);
    let after = "";
    if (options.continue) {
      try {
        after = String(JSON.parse(Buffer.from(options.continue, "base64url").toString("utf8")).start);
      } catch {
        throw badRequest(`continue key is not valid: illegal base64 data`);
      }
    }
    const entries = this.sortedEntries(type.kind).filter(([key, object]) => key > after && matches(object));
    const limit = options.limit && options.limit > 0 ? options.limit : entries.length;
    const page = entries.slice(0, limit);
    const result: ListPage = {
      items: page.map(([, object]) => object),
      resourceVersion: this.resourceVersion,
    };
    if (entries.length > limit) {
      const lastKey = page.at(-1)![0];
      result.continue = Buffer.from(JSON.stringify({ rv: this.rv, start: lastKey })).toString("base64url");
      result.remainingItemCount = entries.length - limit;
    }
    return result;
  }

  protected emit(type: ServedType, entry: ChangeEntry): void {
    this.bus.emit(type.kind, entry);
  }

  protected put(type: ServedType, object: KubeObject, previous?: KubeObject): KubeObject {
    object.metadata.resourceVersion = String(++this.rv);
    const stored = deepFreeze(object);
    this.bucket(type.kind).set(this.key(type, stored.metadata.namespace, stored.metadata.name), stored);
    this.emit(type, {
      rv: this.rv,
      event: { type: previous ? "MODIFIED" : "ADDED", object: stored },
      ...(previous ? { previous } : {}),
    });
    return stored;
  }

  /** Removes an object: a DELETED event at a new resourceVersion; returns the object as deleted. */
  protected drop(type: ServedType, object: KubeObject): KubeObject {
    const gone = cloneJson(object);
    gone.metadata.resourceVersion = String(++this.rv);
    deepFreeze(gone);
    this.bucket(type.kind).delete(this.key(type, gone.metadata.namespace, gone.metadata.name));
    this.emit(type, { rv: this.rv, event: { type: "DELETED", object: gone } });
    return gone;
  }

  subscribe(kind: string, listener: (event: WatchEvent) => void): () => void {
    return this.bus.subscribe(this.typeOf(kind).kind, (entry) => listener(entry.event));
  }

  /**
   * A watch as the HTTP verb serves it: filtered by namespace and selectors (an object that stops
   * matching arrives as DELETED, one that starts matching as ADDED), from a resourceVersion (410
   * Expired when it is older than the kept history).
   */
  watch(kind: string, options: WatchOptions, listener: (event: WatchEvent) => void): () => void {
    const type = this.typeOf(kind);
    const matches = this.matcher(type.kind, options);
    const translate = (entry: ChangeEntry): WatchEvent | undefined => {
      const { event, previous } = entry;
      const now = matches(event.object);
      if (event.type !== "MODIFIED") return now ? event : undefined;
      const before = previous !== undefined && matches(previous);
      if (now) return { type: before ? "MODIFIED" : "ADDED", object: event.object };
      return before ? { type: "DELETED", object: event.object } : undefined;
    };
    const start = options.resourceVersion;
    let replayedUpTo = this.rv;
    if (start === undefined || start === "" || start === "0") {
      for (const object of this.list(type.kind, options)) listener({ type: "ADDED", object });
    } else {
      const from = Number(start);
      if (!Number.isInteger(from) || from < 0) throw badRequest(`invalid resource version "${start}"`);
      for (const entry of this.bus.since(type.kind, from)) {
        const event = translate(entry);
        if (event) listener(event);
      }
      replayedUpTo = Math.max(this.rv, from);
    }
    return this.bus.subscribe(type.kind, (entry) => {
      if (entry.rv <= replayedUpTo) return;
      const event = translate(entry);
      if (event) listener(event);
    });
  }

  /** Forgets the change history (as etcd compaction does): older watches then get 410 Expired. */
  compact(): void {
    this.bus.compact(this.rv);
  }

  /** Every object and the resourceVersion counter, for persistence. */
  snapshot(): StoreSnapshot {
    const objects: KubeObject[] = [];
    for (const bucket of this.objects.values()) objects.push(...bucket.values());
    return { resourceVersion: this.rv, objects };
  }

  /** Replaces the whole content with a snapshot (no events; history before it is gone). */
  restore(snapshot: StoreSnapshot): void {
    this.objects.clear();
    for (const object of snapshot.objects) {
      const type = this.typeOf(object.kind, object.apiVersion);
      const stored = deepFreeze(cloneJson(object));
      this.bucket(type.kind).set(this.key(type, stored.metadata.namespace, stored.metadata.name), stored);
    }
    this.rv = Math.max(this.rv, snapshot.resourceVersion);
    this.bus.compact(this.rv);
  }
}
