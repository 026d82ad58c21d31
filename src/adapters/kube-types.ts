/**
 * The Kubernetes connection's interface (Kube) and the options of its calls: what kube.ts implements and
 * the watch engine (kube-watch.ts) uses, in a module of their own so that the two do not import each
 * other. kube.ts re-exports them; import them from there.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { KubeFailure } from "./kube-errors.js";
import type { HttpRequest, KubeHttp } from "./kube-http.js";
import type { KindRef, ObjectRef } from "./kube-kinds.js";
import type { Resource } from "./kube-paths.js";
import type { Clock, RetryPolicy } from "./kube-retry.js";

export interface KubeConnectOptions {
  /** --kubeconfig; else $KUBECONFIG (from `env`), else ~/.kube/config. */
  kubeconfigPath?: string;
  /** A kubeconfig document to use instead of a file (e.g. one a test writes). */
  kubeconfigText?: string;
  /** --context; else the kubeconfig's current context. */
  context?: string;
  env?: NodeJS.ProcessEnv;
  /** The retry policy of every call (default DEFAULT_RETRY_POLICY, its budget from RETRY_BUDGET_ENV). */
  retry?: Partial<RetryPolicy>;
  /** Time for the retries (tests give a fake one). */
  clock?: Clock;
  /** The command's signal (Ctrl-C): every call and wait stops when it fires. */
  signal?: AbortSignal;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ApplyOptions {
  force?: boolean;
  dryRun?: boolean;
}

export interface RequestOptions<T> {
  /**
   * HTTP statuses that are answers rather than failures (404 for "not there", an eviction's 429): the
   * value the handler returns is the call's result, and they are never retried.
   */
  answers?: Readonly<Partial<Record<number, (failure: KubeFailure) => T>>>;
  /**
   * A failure the caller names better than the generic translation, and that is final (not retried even
   * when transient, e.g. an eviction refused by two disruption budgets); undefined for the others.
   */
  refine?: (failure: KubeFailure) => Error | undefined;
  /** Epoch ms after which no attempt starts, when sooner than the end of the call's budget. */
  deadline?: number;
  /** Stops this call too (besides the connection's signal); a call started after either fired runs once. */
  signal?: AbortSignal;
}

export interface Kube {
  readonly context: string;
  readonly server: string;
  /** The HTTP connection to the API server (for what is not a request/answer, such as port-forwards). */
  readonly http: KubeHttp;
  /** The command's signal the connection was made with. */
  readonly signal?: AbortSignal;
  /**
   * The one request path: runs `run` (one Kubernetes API call) with the retry policy, and translates the
   * failure that ends it. `action` completes "… while ACTION" in messages ("reading Deployment x").
   */
  request<T>(action: string, run: () => Promise<T>, options?: RequestOptions<T>): Promise<T>;
  /** One API call through the request path: its JSON answer; an answer other than 2xx is its failure. */
  call<T>(action: string, request: HttpRequest, options?: RequestOptions<T>): Promise<T>;
  /** Where a kind lives (from the built-in table or discovery); a UsageError when it is not served. */
  resource(kind: KindRef, signal?: AbortSignal): Promise<Resource>;
  list<T extends KubernetesObject>(kind: KindRef<T>, options?: ListOptions): Promise<T[]>;
  /** The same, for a kind named by strings. */
  list<T extends KubernetesObject = KubernetesObject>(
    apiVersion: string,
    kind: string,
    options?: ListOptions,
  ): Promise<T[]>;
  /** A list with the resourceVersion it was read at, to watch from. */
  listAt<T extends KubernetesObject>(
    kind: KindRef<T>,
    options?: ListOptions & { signal?: AbortSignal },
  ): Promise<{ items: T[]; resourceVersion?: string }>;
  /** The URL path that lists a kind (from discovery), e.g. /apis/apps/v1/namespaces/ns/deployments. */
  listPath(kind: KindRef, namespace?: string, signal?: AbortSignal): Promise<string>;
  /** Undefined when the object does not exist. */
  get<T extends KubernetesObject>(ref: ObjectRef<T>): Promise<T | undefined>;
  /** The same, for a kind named by strings. */
  get<T extends KubernetesObject = KubernetesObject>(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ): Promise<T | undefined>;
  /** Server-side apply (field manager clouddrove); creates the object when absent. */
  apply<T extends KubernetesObject = KubernetesObject>(object: T, options?: ApplyOptions): Promise<T>;
  /** False when the object was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  delete(apiVersion: string, kind: string, name: string, namespace?: string): Promise<boolean>;
  /**
   * The kinds of a group/version the server serves (e.g. "policy/v1"); undefined only when the server
   * answered 404 for it. Any other failure is retried, then thrown: never taken for "not served".
   */
  servedKinds(groupVersion: string): Promise<string[] | undefined>;
  /** The control plane's version (gitVersion, e.g. v1.33.5-eks-1a2b3c4). */
  serverVersion(): Promise<string>;
  /** Watches the object until `ready` holds for it (it may not exist yet), or fails at the deadline. */
  waitFor<T extends KubernetesObject>(
    ref: ObjectRef<T>,
    ready: (object: T) => boolean,
    timeoutMs: number,
  ): Promise<T>;
  waitFor<T extends KubernetesObject = KubernetesObject>(
    apiVersion: string,
    kind: string,
    name: string,
    namespace: string | undefined,
    ready: (object: T) => boolean,
    timeoutMs: number,
  ): Promise<T>;
  /** Watches until the object is gone, or fails at the deadline. */
  waitForDeletion(ref: ObjectRef, timeoutMs: number): Promise<void>;
  waitForDeletion(
    apiVersion: string,
    kind: string,
    name: string,
    namespace: string | undefined,
    timeoutMs: number,
  ): Promise<void>;
}
