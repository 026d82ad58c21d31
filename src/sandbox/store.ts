/**
 * The sandbox's object store: what etcd plus the API server's registry do for a real cluster. One
 * resourceVersion counter for all kinds, uid and timestamps, generation on spec changes, admission,
 * optimistic concurrency, graceful pod deletion, finalizers, namespace lifecycle and ownerReference
 * cascades. Objects it hands out are deep-frozen and shared: copy one (structuredClone) to change it.
 */
import { randomUUID } from "node:crypto";
import { admit } from "./admission.js";
import { type ChangeEntry, EventBus } from "./api/event-bus.js";
import { cloneJson, deepEqual, deepFreeze, timestamp } from "./api/json.js";
import { recordUpdate } from "./api/managed-fields.js";
import {
  alreadyExistsError,
  badRequest,
  namespaceNotFoundError,
  namespaceTerminatingError,
  notFoundError,
  preconditionError,
  staleError,
} from "./api/status-errors.js";
import { apiVersionOf, SERVED_TYPES, type ServedType, servedTypeOf } from "./resources.js";
import { matchesFields, matchesRequirements, parseFieldSelector, parseLabelSelector } from "./selectors.js";
import {
  ApiError,
  type DeleteOptions,
  type KubeObject,
  type ListOptions,
  type ObjectStore,
  type SandboxClock,
  type WatchEvent,
} from "./types.js";

export interface MemoryStoreOptions {
  clock?: Pick<SandboxClock, "now">;
  /** Change events kept per kind for watches from an older resourceVersion (default 5000). */
  historyLimit?: number;
  /** Create what a fresh API server has: default, kube-system, kube-public, kube-node-lease (default true). */
  bootstrap?: boolean;
  /** A listener (controller, watch) threw; default: rethrown asynchronously so it is not lost. */
  onListenerError?: (error: unknown) => void;
}

export interface WriteOptions {
  /** Validate and default, return the result, store nothing (dryRun=All). */
  dryRun?: boolean;
  /** Record the write in managedFields as an Update by this manager. */
  fieldManager?: string;
}

export interface StoreDeleteOptions extends DeleteOptions {
  dryRun?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
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

/** Kinds whose metadata.generation counts spec changes (built-ins with a status, and the CRDs). */
const GENERATION_KINDS = new Set([
  "Pod",
  "Deployment",
  "ReplicaSet",
  "DaemonSet",
  "Job",
  "CronJob",
  "PodDisruptionBudget",
  "NetworkPolicy",
  "VolumeSnapshot",
  "VolumeSnapshotClass",
]);
const PROTECTED_NAMESPACES = new Set(["default", "kube-system", "kube-public", "kube-node-lease"]);
const NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

function withoutMetaAndStatus(object: KubeObject): KubeObject {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return rest as KubeObject;
}

function withoutVolatileMetadata(object: KubeObject): KubeObject {
  const { resourceVersion: _rv, managedFields: _mf, generation: _g, ...metadata } = object.metadata;
  return { ...object, metadata: metadata as KubeObject["metadata"] };
}

export class MemoryStore implements ObjectStore {
  readonly types: readonly ServedType[] = SERVED_TYPES;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private rv = 0;
  private readonly bus: EventBus;
  private readonly clock: Pick<SandboxClock, "now">;

  constructor(options: MemoryStoreOptions = {}) {
    this.clock = options.clock ?? { now: () => Date.now() };
    const onError =
      options.onListenerError ??
      ((error: unknown) =>
        queueMicrotask(() => {
          throw error;
        }));
    this.bus = new EventBus(options.historyLimit ?? 5000, onError);
    if (options.bootstrap ?? true) this.bootstrap();
  }

  private bootstrap(): void {
    for (const name of PROTECTED_NAMESPACES) {
      this.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    }
    this.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "kubernetes",
        namespace: "default",
        labels: { component: "apiserver", provider: "kubernetes" },
      },
      spec: {
        clusterIP: "10.100.0.1",
        ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 443 }],
      },
    });
  }

  typeOf(kind: string, apiVersion?: string): ServedType {
    return servedTypeOf(kind, apiVersion);
  }

  /** The store's current resourceVersion (what a list returns as its metadata.resourceVersion). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  private bucket(kind: string): Map<string, KubeObject> {
    let bucket = this.objects.get(kind);
    if (bucket === undefined) {
      bucket = new Map();
      this.objects.set(kind, bucket);
    }
    return bucket;
  }

  private key(type: ServedType, namespace: string | undefined, name: string): string {
    return type.namespaced ? `${namespace ?? ""}/${name}` : `/${name}`;
  }

  private now(offsetMs = 0): string {
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

  private matcher(kind: string, options: ListOptions): (object: KubeObject) => boolean {
    const labels = parseLabelSelector(options.labelSelector);
    const fields = parseFieldSelector(kind, options.fieldSelector);
    const namespace = options.namespace;
    return (object) =>
      (namespace === undefined || object.metadata.namespace === namespace) &&
      matchesRequirements(labels, object.metadata.labels) &&
      matchesFields(fields, object);
  }

  private sortedEntries(kind: string): Array<[string, KubeObject]> {
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

  private checkNamespace(type: ServedType, object: KubeObject): void {
    if (!type.namespaced) return;
    const namespace = this.get("Namespace", undefined, object.metadata.namespace ?? "");
    if (namespace === undefined) throw namespaceNotFoundError(object.metadata.namespace ?? "");
    if (namespace.metadata.deletionTimestamp) {
      throw namespaceTerminatingError(type, object.metadata.name, namespace.metadata.name);
    }
  }

  private admissionContext() {
    return {
      clusterIPInUse: (ip: string) => this.list("Service").some((s) => s.spec?.clusterIP === ip),
      nodePortInUse: (port: number) =>
        this.list("Service").some((s) =>
          (s.spec?.ports ?? []).some((p: { nodePort?: number }) => p.nodePort === port),
        ),
      defaultStorageClass: () =>
        this.list("StorageClass").find(
          (c) => c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true",
        )?.metadata.name,
    };
  }

  private normalize(type: ServedType, object: KubeObject): KubeObject {
    const copy = cloneJson(object);
    copy.apiVersion = apiVersionOf(type);
    copy.kind = type.kind;
    copy.metadata = { ...(copy.metadata ?? {}) } as KubeObject["metadata"];
    if (type.namespaced) copy.metadata.namespace ??= "default";
    else delete copy.metadata.namespace;
    return copy;
  }

  private generateName(type: ServedType, object: KubeObject): string {
    const prefix = object.metadata.generateName ?? "";
    for (;;) {
      let suffix = "";
      for (let i = 0; i < 5; i++)
        suffix += NAME_SUFFIX_ALPHABET[Math.floor(Math.random() * NAME_SUFFIX_ALPHABET.length)];
      const name = `${prefix}${suffix}`;
      if (!this.bucket(type.kind).has(this.key(type, object.metadata.namespace, name))) return name;
    }
  }

  private emit(type: ServedType, entry: ChangeEntry): void {
    this.bus.emit(type.kind, entry);
  }

  private put(type: ServedType, object: KubeObject, previous?: KubeObject): KubeObject {
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

  /** Runs admission, assigns uid/resourceVersion/creationTimestamp/generation; 409 AlreadyExists. */
  create(object: KubeObject, options: WriteOptions = {}): KubeObject {
    const type = this.typeOf(object.kind, object.apiVersion);
    const created = this.normalize(type, object);
    const meta = created.metadata;
    if (!meta.name && meta.generateName) meta.name = this.generateName(type, created);
    if (meta.name && this.bucket(type.kind).has(this.key(type, meta.namespace, meta.name))) {
      throw alreadyExistsError(type, meta.name);
    }
    this.checkNamespace(type, created);
    meta.uid = randomUUID();
    meta.creationTimestamp = this.now();
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (GENERATION_KINDS.has(type.kind)) meta.generation = 1;
    else delete meta.generation;
    admit(type, created, undefined, this.admissionContext());
    if (options.fieldManager) {
      meta.managedFields = recordUpdate(
        undefined,
        created,
        options.fieldManager,
        apiVersionOf(type),
        this.now(),
      );
    }
    if (options.dryRun) return deepFreeze(created);
    const stored = this.put(type, created);
    if (type.kind === "Namespace") {
      this.create({
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: "default", namespace: meta.name },
      });
    }
    return stored;
  }

  private existing(type: ServedType, object: KubeObject): KubeObject {
    const name = object.metadata?.name ?? "";
    const namespace = type.namespaced ? (object.metadata?.namespace ?? "default") : undefined;
    const old = this.bucket(type.kind).get(this.key(type, namespace, name));
    if (old === undefined) throw notFoundError(type, name);
    const wantedRv = object.metadata?.resourceVersion;
    if (wantedRv !== undefined && wantedRv !== "" && wantedRv !== old.metadata.resourceVersion) {
      throw staleError(type, name);
    }
    const wantedUid = object.metadata?.uid;
    if (wantedUid !== undefined && wantedUid !== "" && wantedUid !== old.metadata.uid) {
      throw preconditionError(type, name, "UID", wantedUid, old.metadata.uid ?? "");
    }
    return old;
  }

  /**
   * Replaces the object; 409 Conflict when metadata.resourceVersion is set and stale. For kinds with a
   * status subresource, .status is kept as stored (use updateStatus), as the real server does.
   */
  update(object: KubeObject, options: WriteOptions = {}): KubeObject {
    const type = this.typeOf(object.kind, object.apiVersion);
    const old = this.existing(type, object);
    const updated = this.normalize(type, object);
    const meta = updated.metadata;
    const oldMeta = old.metadata;
    meta.name = oldMeta.name;
    meta.namespace = oldMeta.namespace;
    meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    meta.deletionTimestamp = oldMeta.deletionTimestamp;
    meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
    meta.managedFields ??= cloneJson(oldMeta.managedFields);
    if (type.hasStatus) updated.status = cloneJson(old.status);
    admit(type, updated, old, this.admissionContext());
    const specChanged = !deepEqual(withoutMetaAndStatus(updated), withoutMetaAndStatus(old));
    if (GENERATION_KINDS.has(type.kind)) meta.generation = (oldMeta.generation ?? 1) + (specChanged ? 1 : 0);
    else delete meta.generation;
    if (
      deepEqual(withoutVolatileMetadata(updated), withoutVolatileMetadata(old)) &&
      !this.finalizersDone(updated)
    ) {
      return old; // a no-op write changes nothing, not even the resourceVersion
    }
    if (options.fieldManager) {
      meta.managedFields = recordUpdate(old, updated, options.fieldManager, apiVersionOf(type), this.now());
    }
    if (options.dryRun) return deepFreeze(updated);
    if (this.finalizersDone(updated)) return this.removeNow(type, updated);
    return this.put(type, updated, old);
  }

  /** Replaces only .status (the status subresource); never bumps generation. */
  updateStatus(object: KubeObject, options: WriteOptions = {}): KubeObject {
    const type = this.typeOf(object.kind, object.apiVersion);
    const old = this.existing(type, object);
    const updated = cloneJson(old);
    updated.status = cloneJson(object.status);
    if (deepEqual(updated.status, old.status)) return old;
    if (options.fieldManager) {
      updated.metadata.managedFields = recordUpdate(
        old,
        updated,
        options.fieldManager,
        apiVersionOf(type),
        this.now(),
        "status",
      );
    }
    if (options.dryRun) return deepFreeze(updated);
    return this.put(type, updated, old);
  }

  /** Being deleted, nothing left to wait for: no finalizers and (for pods) the grace period is over. */
  private finalizersDone(object: KubeObject): boolean {
    const meta = object.metadata;
    return (
      meta.deletionTimestamp !== undefined &&
      (meta.finalizers ?? []).length === 0 &&
      (meta.deletionGracePeriodSeconds ?? 0) === 0
    );
  }

  /**
   * Deletes an object. Pods bound to a node are deleted gracefully: deletionTimestamp and
   * deletionGracePeriodSeconds are set and the kubelet (B2) removes the pod with gracePeriodSeconds 0
   * once its containers stopped. Objects with finalizers wait for them. propagationPolicy defaults to
   * Background, except for batch/v1 Jobs (Orphan, as the real server keeps for compatibility).
   */
  delete(
    kind: string,
    namespace: string | undefined,
    name: string,
    options: StoreDeleteOptions = {},
  ): KubeObject | undefined {
    const type = this.typeOf(kind);
    const old = this.get(type.kind, namespace, name);
    if (old === undefined) throw notFoundError(type, name);
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid)
      throw preconditionError(type, name, "UID", pre.uid, old.metadata.uid ?? "");
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw preconditionError(
        type,
        name,
        "ResourceVersion",
        pre.resourceVersion,
        old.metadata.resourceVersion ?? "",
      );
    }
    if (type.kind === "Namespace") return this.deleteNamespace(old, options.dryRun ?? false);
    if (options.dryRun) return old;
    const policy = options.propagationPolicy ?? (type.kind === "Job" ? "Orphan" : "Background");
    const grace = this.gracePeriod(type, old, options.gracePeriodSeconds);
    const meta = old.metadata;
    if (meta.deletionTimestamp) {
      if (type.kind !== "Pod" || grace >= (meta.deletionGracePeriodSeconds ?? 0)) return old;
      return this.markDeleting(type, old, grace, meta.finalizers ?? []);
    }
    if (policy === "Orphan") this.orphanDependents(old);
    const finalizers = [...(meta.finalizers ?? [])];
    const dependents = policy === "Foreground" ? this.dependentsOf(old) : [];
    if (dependents.length > 0) finalizers.push("foregroundDeletion");
    if (grace > 0 || finalizers.length > 0) {
      const marked = this.markDeleting(type, old, grace, finalizers);
      for (const dependent of dependents) this.deleteQuietly(dependent, "Foreground");
      return marked;
    }
    return this.removeNow(type, old);
  }

  private gracePeriod(type: ServedType, object: KubeObject, requested: number | undefined): number {
    if (type.kind !== "Pod") return 0;
    if (!object.spec?.nodeName) return 0; // never scheduled: nothing runs, gone at once
    if (object.status?.phase === "Succeeded" || object.status?.phase === "Failed") return 0;
    return Math.max(0, requested ?? object.spec?.terminationGracePeriodSeconds ?? 30);
  }

  private markDeleting(type: ServedType, old: KubeObject, grace: number, finalizers: string[]): KubeObject {
    const marked = cloneJson(old);
    marked.metadata.deletionTimestamp = this.now(grace * 1000);
    marked.metadata.deletionGracePeriodSeconds = grace;
    if (finalizers.length > 0) marked.metadata.finalizers = finalizers;
    if (GENERATION_KINDS.has(type.kind)) marked.metadata.generation = (old.metadata.generation ?? 1) + 1;
    if (this.finalizersDone(marked)) return this.removeNow(type, marked);
    return this.put(type, marked, old);
  }

  private removeNow(type: ServedType, object: KubeObject): KubeObject {
    const gone = cloneJson(object);
    gone.metadata.resourceVersion = String(++this.rv);
    deepFreeze(gone);
    this.bucket(type.kind).delete(this.key(type, gone.metadata.namespace, gone.metadata.name));
    this.emit(type, { rv: this.rv, event: { type: "DELETED", object: gone } });
    for (const dependent of this.dependentsOf(gone)) this.deleteQuietly(dependent, "Background");
    this.releaseOwners(gone);
    this.finishNamespace(gone.metadata.namespace);
    return gone;
  }

  private deleteQuietly(object: KubeObject, propagationPolicy: "Background" | "Foreground"): void {
    try {
      this.delete(object.kind, object.metadata.namespace, object.metadata.name, { propagationPolicy });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }

  /** Objects whose ownerReferences name this one (by uid). */
  dependentsOf(owner: KubeObject): KubeObject[] {
    const uid = owner.metadata.uid;
    const namespace = owner.metadata.namespace;
    const found: KubeObject[] = [];
    for (const [kind, bucket] of this.objects) {
      if (kind === "Namespace") continue;
      for (const object of bucket.values()) {
        if (namespace !== undefined && object.metadata.namespace !== namespace) continue;
        if (object.metadata.ownerReferences?.some((ref) => ref.uid === uid)) found.push(object);
      }
    }
    return found;
  }

  private orphanDependents(owner: KubeObject): void {
    for (const dependent of this.dependentsOf(owner)) {
      const copy = cloneJson(dependent);
      copy.metadata.ownerReferences = copy.metadata.ownerReferences?.filter(
        (ref) => ref.uid !== owner.metadata.uid,
      );
      if (copy.metadata.ownerReferences?.length === 0) delete copy.metadata.ownerReferences;
      this.put(this.typeOf(dependent.kind), copy, dependent);
    }
  }

  /** An owner waiting (foreground deletion) for its dependents is removed when the last one goes. */
  private releaseOwners(gone: KubeObject): void {
    for (const ref of gone.metadata.ownerReferences ?? []) {
      let ownerType: ServedType;
      try {
        ownerType = this.typeOf(ref.kind);
      } catch {
        continue;
      }
      const owner = this.get(
        ownerType.kind,
        ownerType.namespaced ? gone.metadata.namespace : undefined,
        ref.name,
      );
      if (owner?.metadata.uid !== ref.uid || !owner.metadata.finalizers?.includes("foregroundDeletion"))
        continue;
      if (this.dependentsOf(owner).length > 0) continue;
      const released = cloneJson(owner);
      released.metadata.finalizers = owner.metadata.finalizers.filter((f) => f !== "foregroundDeletion");
      if (this.finalizersDone(released)) this.removeNow(ownerType, released);
      else this.put(ownerType, released, owner);
    }
  }

  private deleteNamespace(namespace: KubeObject, dryRun: boolean): KubeObject {
    const name = namespace.metadata.name;
    if (PROTECTED_NAMESPACES.has(name)) {
      throw new ApiError(
        403,
        "Forbidden",
        `namespaces "${name}" is forbidden: this namespace may not be deleted`,
        {
          name,
          kind: "namespaces",
        },
      );
    }
    if (dryRun || namespace.metadata.deletionTimestamp) return namespace;
    const terminating = cloneJson(namespace);
    terminating.metadata.deletionTimestamp = this.now();
    terminating.status = { ...terminating.status, phase: "Terminating" };
    const marked = this.put(this.typeOf("Namespace"), terminating, namespace);
    for (const type of this.types) {
      if (!type.namespaced) continue;
      for (const object of this.list(type.kind, { namespace: name }))
        this.deleteQuietly(object, "Background");
    }
    this.finishNamespace(name);
    return this.get("Namespace", undefined, name) ?? marked;
  }

  private finishNamespace(name: string | undefined): void {
    if (name === undefined) return;
    const namespace = this.get("Namespace", undefined, name);
    if (!namespace?.metadata.deletionTimestamp) return;
    for (const type of this.types) {
      if (type.namespaced && this.list(type.kind, { namespace: name }).length > 0) return;
    }
    this.removeNow(this.typeOf("Namespace"), namespace);
  }

  /** Calls back for every change of a kind from now on; returns an unsubscribe function. */
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
