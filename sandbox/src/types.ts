/**
 * The contract between the sandbox's API layer (HTTP server, object store, watch) and its simulated
 * controllers (scheduler, kubelet, workload controllers). Controllers never speak HTTP: they read and
 * write through ObjectStore, exactly the operations the API layer exposes, so admission and
 * resourceVersion rules apply to them as to any client.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }>;
  finalizers?: string[];
  managedFields?: unknown[];
  generateName?: string;
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  // biome-ignore lint/suspicious/noExplicitAny: objects of every kind pass through the store
  [field: string]: any;
}

/** One served resource type, as discovery lists it. */
export interface ResourceType {
  group: string; // "" for the core group
  version: string;
  resource: string; // plural, e.g. "deployments"
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  subresources?: string[]; // e.g. ["status", "scale"]
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface DeleteOptions {
  /**
   * Seconds until a pod is really removed; undefined = the object's own default (pods: 30 s, simulated).
   * A pod bound to a node keeps existing with deletionTimestamp/deletionGracePeriodSeconds until the
   * kubelet deletes it again with gracePeriodSeconds 0; an unbound or finished pod goes at once.
   */
  gracePeriodSeconds?: number;
  /** undefined = Background, except for batch/v1 Jobs: Orphan (as the real API server's default). */
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
}

/**
 * The object store every part of the sandbox uses. Errors are thrown as ApiError (see below) with the
 * HTTP code and reason a real API server returns.
 *
 * How MemoryStore (store.ts) behaves, as a real API server does:
 * - Objects it returns (get, list, events) are deep-frozen and shared: structuredClone one to change it.
 * - update() keeps the stored .status for kinds with a status subresource; write status with
 *   updateStatus(). A write that changes nothing is a no-op (same resourceVersion, no event).
 * - Pod spec is immutable on update except images, tolerations, activeDeadlineSeconds and
 *   terminationGracePeriodSeconds; spec.nodeName may be set once (that is how the scheduler binds).
 * - A fresh store has namespaces default, kube-system, kube-public, kube-node-lease (each with a
 *   "default" ServiceAccount) and the "kubernetes" Service; creating them again is 409 AlreadyExists.
 * - Listeners run synchronously, in resourceVersion order, never re-entrantly: a write made inside a
 *   listener is delivered after the current event reached every listener.
 */
export interface ObjectStore {
  readonly types: readonly ResourceType[];
  typeOf(kind: string, apiVersion?: string): ResourceType;
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(kind: string, options?: ListOptions): KubeObject[];
  /** Runs admission, assigns uid/resourceVersion/creationTimestamp/generation; 409 AlreadyExists. */
  create(object: KubeObject): KubeObject;
  /** Replaces the object; 409 Conflict when metadata.resourceVersion is set and stale. */
  update(object: KubeObject): KubeObject;
  /** Replaces only .status (the status subresource); never bumps generation. */
  updateStatus(object: KubeObject): KubeObject;
  /** Graceful for pods (sets deletionTimestamp; the kubelet simulation finishes it), cascades to dependents. */
  delete(
    kind: string,
    namespace: string | undefined,
    name: string,
    options?: DeleteOptions,
  ): KubeObject | undefined;
  /** Calls back for every change from now on; returns an unsubscribe function. */
  subscribe(kind: string, listener: (event: WatchEvent) => void): () => void;
}

/** A Kubernetes Status error: thrown by the store, turned into the HTTP response by the server. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }

  toStatus(): KubeObject {
    return {
      apiVersion: "v1",
      kind: "Status",
      metadata: {} as ObjectMeta,
      status: "Failure",
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}

/**
 * Simulated time. Controllers schedule work with `after` instead of setTimeout, so that a speed factor
 * (e.g. 100x) and tests that step time by hand both work.
 */
export interface SandboxClock {
  /** Simulated milliseconds since the epoch. */
  now(): number;
  /** Runs fn after `ms` of simulated time; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
}

/** A controller runs inside the sandbox and reacts to store events. */
export interface Controller {
  readonly name: string;
  start(context: { store: ObjectStore; clock: SandboxClock }): void;
  stop(): void;
}
