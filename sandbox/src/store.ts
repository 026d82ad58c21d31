/**
 * The sandbox's object store: what etcd plus the API server's registry do for a real cluster. One
 * resourceVersion counter for all kinds, uid and timestamps, generation on spec changes, admission,
 * optimistic concurrency, graceful pod deletion, finalizers, namespace lifecycle and ownerReference
 * cascades. Objects it hands out are deep-frozen and shared: copy one (structuredClone) to change it.
 */
import { randomUUID } from "node:crypto";
import { admit } from "./admission.js";
import { cloneJson, deepEqual, deepFreeze } from "./api/json.js";
import { recordUpdate } from "./api/managed-fields.js";
import { type MemoryStoreOptions, ObjectTable } from "./api/object-table.js";
import {
  alreadyExistsError,
  namespaceNotFoundError,
  namespaceTerminatingError,
  notFoundError,
  preconditionError,
  staleError,
} from "./api/status-errors.js";
import { apiVersionOf, SERVED_TYPES, type ServedType } from "./resources.js";
import { ApiError, type DeleteOptions, type KubeObject, type ObjectStore } from "./types.js";

export type {
  ListPage,
  ListPageOptions,
  MemoryStoreOptions,
  StoreSnapshot,
  WatchOptions,
} from "./api/object-table.js";

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

/**
 * The Service "kubernetes" in default that every cluster has: the API server's in-cluster address. The
 * store creates it with its namespaces (unless told not to bootstrap); seeding creates it when missing.
 */
export function kubernetesService(): KubeObject {
  return {
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
  };
}

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

export class MemoryStore extends ObjectTable implements ObjectStore {
  readonly types: readonly ServedType[] = SERVED_TYPES;

  constructor(options: MemoryStoreOptions = {}) {
    super(options);
    if (options.bootstrap ?? true) this.bootstrap();
  }

  private bootstrap(): void {
    for (const name of PROTECTED_NAMESPACES) {
      this.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    }
    this.create(kubernetesService());
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
        this.list("Service").some(
          (s) =>
            s.spec?.healthCheckNodePort === port ||
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
    if (type.kind === "PersistentVolume" && created.status?.phase)
      created.status.lastPhaseTransitionTime = this.now();
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
    // The API server stamps a PersistentVolume's phase changes (lastPhaseTransitionTime, GA in 1.31).
    if (type.kind === "PersistentVolume" && updated.status?.phase !== old.status?.phase && updated.status)
      updated.status.lastPhaseTransitionTime = this.now();
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
    const gone = this.drop(type, object);
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
}
