/**
 * The Kubernetes API: connect from --kubeconfig/--context (or a given kubeconfig text) through the
 * project's own HTTP layer (kube-config.ts, kube-http.ts — no client library is loaded: it cost more memory
 * and start-up time than all the rest of a command), and the one request path every Kubernetes call of the adapters goes through
 * (`request`): the retry policy of kube-retry.ts — transient failures (5xx, 429, connections cut during a
 * call, watches that would not start) tried again with exponential backoff and full jitter within a time
 * budget per call (30 s; CLOUDDROVE_API_RETRY_BUDGET), never sooner than Retry-After, and stopped at once
 * by Ctrl-C — and the one error translation of kube-errors.ts (401/403 and an unreachable cluster are
 * CredentialsError, exit 4, naming the context; other answers OperationError with the server's message).
 * On top of it: list/get/apply/delete by typed kind (kube-kinds.ts), API discovery, the server's version,
 * and waits through the one watch engine (kube-watch.ts). Writes are server-side apply with field manager
 * `clouddrove`. Other adapters (drain, kube-workload) build their calls on `call`. Objects are the JSON the
 * server sent, typed with @kubernetes/client-node's models (types only; timestamps are RFC 3339 strings).
 */
import type { KubernetesObject, V1APIResourceList } from "@kubernetes/client-node";
import { parseDurationMs } from "../core/validators.js";
import { ClouddroveError, UsageError } from "../errors.js";
import { scopedSignal } from "./abort.js";
import { resolveKubeconfig } from "./kube-config.js";
import { failureOf, kubeError, verdictOf } from "./kube-errors.js";
import { type HttpRequest, KubeHttp } from "./kube-http.js";
import type { KindRef, ObjectRef } from "./kube-kinds.js";
import { type Resource, ResourcePaths, resourcePath } from "./kube-paths.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, retrying } from "./kube-retry.js";
import type { ApplyOptions, Kube, KubeConnectOptions, ListOptions, RequestOptions } from "./kube-types.js";
import { waitUntil } from "./kube-watch.js";

export type { ApplyOptions, Kube, KubeConnectOptions, ListOptions, RequestOptions } from "./kube-types.js";

export const FIELD_MANAGER = "clouddrove";

/** The environment variable that sets each call's retry budget, as a duration (30s, 2m). */
export const RETRY_BUDGET_ENV = "CLOUDDROVE_API_RETRY_BUDGET";

/** The retry policy: the defaults, the budget from the environment, then what the caller gave. */
export function retryPolicy(env: NodeJS.ProcessEnv, given: Partial<RetryPolicy> = {}): RetryPolicy {
  const text = env[RETRY_BUDGET_ENV];
  let budgetMs: number | undefined;
  if (text !== undefined && text !== "") {
    try {
      budgetMs = parseDurationMs(text);
    } catch {
      throw new UsageError(`${RETRY_BUDGET_ENV}=${text} is not a duration.`, {
        hint: `Give how long each Kubernetes API call may keep retrying, e.g. ${RETRY_BUDGET_ENV}=30s or 2m.`,
      });
    }
  }
  return { ...DEFAULT_RETRY_POLICY, ...(budgetMs === undefined ? {} : { budgetMs }), ...given };
}

/** The arguments of get/delete/waitFor as a reference, however they were given. */
function refFrom(args: unknown[]): { ref: ObjectRef; rest: unknown[] } {
  if (typeof args[0] === "object") return { ref: args[0] as ObjectRef, rest: args.slice(1) };
  const [apiVersion, kind, name, namespace, ...rest] = args as [string, string, string, string | undefined];
  return { ref: { apiVersion, kind, name, namespace }, rest };
}

const byName = (name: string) => `metadata.name=${name}`;

export async function connectKube(options: KubeConnectOptions = {}): Promise<Kube> {
  const env = options.env ?? process.env;
  const access = resolveKubeconfig({
    path: options.kubeconfigPath,
    text: options.kubeconfigText,
    context: options.context,
    env,
  });
  const { context, server } = access;
  const policy = retryPolicy(env, options.retry);
  const where = { context, server };
  const http = new KubeHttp(access, env);
  // One table of paths per connection: discovery is asked once per group/version.
  const paths = new ResourcePaths(http);
  /** Whether the server has answered this connection yet: a refused connection after that is transient. */
  let reached = false;

  function request<T>(action: string, run: () => Promise<T>, opts: RequestOptions<T> = {}): Promise<T> {
    // A call made after Ctrl-C is the command's clean-up (the record of an interrupted upgrade, where the
    // node stands, the Secret that keeps the password): it runs once, to its end — nothing to interrupt,
    // no retries to wait through. Calls under way when Ctrl-C comes stop at once.
    const cleanUp = Boolean(options.signal?.aborted || opts.signal?.aborted);
    return retrying(
      async () => {
        try {
          const value = await run();
          reached = true;
          return value;
        } catch (error) {
          const failure = failureOf(error);
          if (failure.status !== undefined) reached = true;
          const answer = failure.status === undefined ? undefined : opts.answers?.[failure.status];
          if (answer) return answer(failure);
          // What the caller names itself is final: a ClouddroveError is never retried.
          throw opts.refine?.(failure) ?? error;
        }
      },
      {
        policy: cleanUp ? { ...policy, budgetMs: 0 } : policy,
        clock: options.clock,
        signal: cleanUp ? undefined : scopedSignal(opts.signal, options.signal),
        deadline: opts.deadline,
        classify: (error) =>
          error instanceof ClouddroveError ? { retry: false } : verdictOf(failureOf(error), reached),
        fail: (error, outcome) => kubeError(error, where, action, outcome),
      },
    );
  }

  const call = <T>(action: string, httpRequest: HttpRequest, opts: RequestOptions<T> = {}) =>
    request<T>(action, () => http.json<T>(httpRequest), opts);

  const resource = async (kind: KindRef, signal?: AbortSignal): Promise<Resource> => {
    const found = await request(`resolving ${kind.kind}`, () => paths.resource(kind.apiVersion, kind.kind), {
      signal,
    });
    if (!found) {
      throw new UsageError(
        `The cluster of context ${context} does not serve ${kind.apiVersion} ${kind.kind}.`,
        {
          hint: "Install what provides it (a CRD or an add-on), or use a cluster that serves it.",
        },
      );
    }
    return found;
  };

  const objectPath = async (ref: ObjectRef, signal?: AbortSignal) =>
    resourcePath(await resource(ref, signal), { namespace: ref.namespace, name: ref.name });

  const query = (parameters: Record<string, string | undefined>) => {
    const defined = Object.entries(parameters).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    );
    return defined.length === 0 ? "" : `?${new URLSearchParams(defined).toString()}`;
  };

  const listAt = async <T extends KubernetesObject>(
    kind: KindRef<T>,
    listOptions: ListOptions & { signal?: AbortSignal } = {},
  ) => {
    const path = resourcePath(await resource(kind, listOptions.signal), { namespace: listOptions.namespace });
    const answer = await call<{ items?: T[]; metadata?: { resourceVersion?: string } }>(
      `listing ${kind.kind} objects`,
      {
        method: "GET",
        path: `${path}${query({ labelSelector: listOptions.labelSelector, fieldSelector: listOptions.fieldSelector })}`,
      },
      { signal: listOptions.signal },
    );
    return { items: answer.items ?? [], resourceVersion: answer.metadata?.resourceVersion };
  };

  const get = async <T extends KubernetesObject>(ref: ObjectRef<T>) =>
    call<T | undefined>(
      `reading ${ref.kind} ${ref.name}`,
      { method: "GET", path: await objectPath(ref) },
      { answers: { 404: () => undefined } },
    );

  const waitFor = async <T extends KubernetesObject>(
    ref: ObjectRef<T>,
    ready: (object: T) => boolean,
    timeoutMs: number,
  ): Promise<T> => {
    const [object] = await waitUntil<T>(
      kube,
      { ...ref, fieldSelector: byName(ref.name) },
      ([o]) => o !== undefined && ready(o),
      {
        timeoutMs,
        explainTimeout: () => `${ref.name} is not ready yet`,
        hint: `See why: \`kubectl describe ${ref.kind.toLowerCase()} ${ref.name}${ref.namespace ? ` -n ${ref.namespace}` : ""}\`.`,
      },
    );
    return object as T;
  };

  const waitForDeletion = async (ref: ObjectRef, timeoutMs: number): Promise<void> => {
    await waitUntil(kube, { ...ref, fieldSelector: byName(ref.name) }, (found) => found.length === 0, {
      timeoutMs,
      explainTimeout: () => `${ref.name} is still there`,
      hint: `Something holds it (a finalizer?): \`kubectl get ${ref.kind.toLowerCase()} ${ref.name}${ref.namespace ? ` -n ${ref.namespace}` : ""} -o yaml\`.`,
    });
  };

  const kube: Kube = {
    context,
    server,
    http,
    signal: options.signal,
    request,
    call,
    resource,
    listAt,
    async list<T extends KubernetesObject>(...args: unknown[]): Promise<T[]> {
      const [kind, listOptions] =
        typeof args[0] === "object"
          ? [args[0] as KindRef<T>, args[1] as ListOptions | undefined]
          : [{ apiVersion: args[0] as string, kind: args[1] as string }, args[2] as ListOptions | undefined];
      return (await listAt<T>(kind, listOptions)).items;
    },
    async listPath(kind, namespace, signal) {
      return resourcePath(await resource(kind, signal), { namespace });
    },
    get<T extends KubernetesObject>(...args: unknown[]) {
      return get(refFrom(args).ref as ObjectRef<T>);
    },
    async apply<T extends KubernetesObject>(object: T, applyOptions: ApplyOptions = {}) {
      const ref = {
        apiVersion: object.apiVersion ?? "",
        kind: object.kind ?? "",
        name: object.metadata?.name ?? "",
        namespace: object.metadata?.namespace,
      };
      return call<T>(`applying ${ref.kind} ${ref.name}`, {
        method: "PATCH",
        path: `${await objectPath(ref)}${query({
          fieldManager: FIELD_MANAGER,
          force: String(applyOptions.force ?? false),
          dryRun: applyOptions.dryRun ? "All" : undefined,
        })}`,
        // Server-side apply takes YAML; JSON is YAML.
        contentType: "application/apply-patch+yaml",
        body: object,
      });
    },
    async delete(...args: unknown[]) {
      const { ref } = refFrom(args);
      return call(
        `deleting ${ref.kind} ${ref.name}`,
        // Dependents (a Job's pods) go too, in the background, as kubectl delete does.
        { method: "DELETE", path: await objectPath(ref), body: { propagationPolicy: "Background" } },
        { answers: { 404: () => false } },
      ).then((answer) => answer !== false);
    },
    async servedKinds(groupVersion: string) {
      const list = await call<V1APIResourceList | undefined>(
        `discovering the resources of ${groupVersion}`,
        {
          method: "GET",
          path: groupVersion.includes("/") ? `/apis/${groupVersion}` : `/api/${groupVersion}`,
        },
        { answers: { 404: () => undefined } },
      );
      return list?.resources.filter((r) => !r.name.includes("/")).map((r) => r.kind);
    },
    async serverVersion() {
      const info = await call<{ gitVersion: string }>("reading the server's version", {
        method: "GET",
        path: "/version",
      });
      return info.gitVersion;
    },
    waitFor<T extends KubernetesObject>(...args: unknown[]) {
      const { ref, rest } = refFrom(args);
      return waitFor(ref as ObjectRef<T>, rest[0] as (object: T) => boolean, rest[1] as number);
    },
    waitForDeletion(...args: unknown[]) {
      const { ref, rest } = refFrom(args);
      return waitForDeletion(ref, rest[0] as number);
    },
  };
  return kube;
}
