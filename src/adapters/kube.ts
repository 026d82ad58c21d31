/**
 * The Kubernetes API through @kubernetes/client-node: connect from --kubeconfig/--context (or a given
 * kubeconfig text), and the one request path every Kubernetes call of the adapters goes through
 * (`request`): the retry policy of kube-retry.ts — transient failures (5xx, 429, connections cut during a
 * call, watches that would not start) tried again with exponential backoff and full jitter within a time
 * budget per call (30 s; CLOUDDROVE_API_RETRY_BUDGET), never sooner than Retry-After, and stopped at once
 * by Ctrl-C — and the one error translation of kube-errors.ts (401/403 and an unreachable cluster are
 * CredentialsError, exit 4, naming the context; other answers OperationError with the server's message).
 * On top of it: list/get/apply/delete by typed kind (kube-kinds.ts), API discovery, the server's version,
 * and waits through the one watch engine (kube-watch.ts). Writes are server-side apply with field manager
 * `clouddrove`. Other adapters (drain, kube-workload) build their calls on `request` and `client`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  type ApiConstructor,
  type ApiType,
  HttpMethod,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1APIResourceList,
  VersionApi,
} from "@kubernetes/client-node";
import { parseDurationMs } from "../core/validators.js";
import { ClouddroveError, CredentialsError, UsageError } from "../errors.js";
import { scopedSignal } from "./abort.js";
import { failureOf, kubeError, verdictOf } from "./kube-errors.js";
import type { KindRef, ObjectRef } from "./kube-kinds.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, retrying } from "./kube-retry.js";
import type { ApplyOptions, Kube, KubeConnectOptions, ListOptions, RequestOptions } from "./kube-types.js";
import { waitUntil } from "./kube-watch.js";

export type { ApplyOptions, Kube, KubeConnectOptions, ListOptions, RequestOptions } from "./kube-types.js";

export const FIELD_MANAGER = "clouddrove";

/** The environment variable that sets each call's retry budget, as a duration (30s, 2m). */
export const RETRY_BUDGET_ENV = "CLOUDDROVE_API_RETRY_BUDGET";

/** Resolves a resource's URL path from discovery (KubernetesObjectApi keeps this protected). */
class ObjectApi extends KubernetesObjectApi {
  listPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    return this.specUriPath({ apiVersion, kind, metadata: { namespace } }, "list");
  }

  /** GET /api/v1 or /apis/GROUP/VERSION, kept for later path lookups; an ApiException 404 when not served. */
  async resourceList(apiVersion: string): Promise<V1APIResourceList> {
    const request = this.configuration.baseServer.makeRequestContext(
      this.apiVersionPath(apiVersion),
      HttpMethod.GET,
    );
    request.setHeaderParam("Accept", "application/json");
    const list = await this.requestPromise<V1APIResourceList & KubernetesObject>(
      request,
      "V1APIResourceList",
    );
    this.apiVersionResourceCache[apiVersion] = list;
    return list;
  }
}

function defaultKubeconfigPath(env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env.KUBECONFIG?.split(":").find((p) => p !== "");
  if (fromEnv) return fromEnv;
  const home = env.HOME ?? env.USERPROFILE;
  return home ? join(home, ".kube", "config") : undefined;
}

function loadKubeConfig(options: KubeConnectOptions, env: NodeJS.ProcessEnv): KubeConfig {
  const kc = new KubeConfig();
  const path = options.kubeconfigPath ?? defaultKubeconfigPath(env);
  try {
    if (options.kubeconfigText !== undefined) kc.loadFromString(options.kubeconfigText);
    else if (path && existsSync(path)) kc.loadFromFile(path);
    else {
      throw new CredentialsError(`No kubeconfig found${path ? ` at ${path}` : ""}.`, {
        hint: "Point --kubeconfig at one, or create the context with `clouddrove cluster create` (or `aws eks update-kubeconfig`).",
      });
    }
  } catch (error) {
    if (error instanceof CredentialsError) throw error;
    throw new CredentialsError(
      `The kubeconfig ${path ?? "(given)"} could not be read: ${(error as Error).message}`,
      {
        hint: "Fix the file or point --kubeconfig at another one.",
      },
    );
  }
  if (options.context) {
    if (!kc.getContexts().some((c) => c.name === options.context)) {
      throw new CredentialsError(`The kubeconfig has no context named ${options.context}.`, {
        hint: `Use one of: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(", ") || "(none)"
        } (--context).`,
      });
    }
    kc.setCurrentContext(options.context);
  }
  return kc;
}

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
  const kc = loadKubeConfig(options, env);
  const context = kc.getCurrentContext();
  const server = kc.getCurrentCluster()?.server ?? "";
  if (!context || !server) {
    throw new CredentialsError("The kubeconfig has no current context with a cluster.", {
      hint: "Pass --context NAME, or run `clouddrove cluster create` to write one.",
    });
  }
  const policy = retryPolicy(env, options.retry);
  const where = { context, server };
  const clients = new Map<unknown, unknown>();
  const client = <A extends ApiType>(api: ApiConstructor<A>): A => {
    let made = clients.get(api) as A | undefined;
    if (!made) {
      made = kc.makeApiClient(api);
      clients.set(api, made);
    }
    return made;
  };
  // One object API per connection: it caches discovery, so paths are looked up once per group/version.
  const objects = () => client(ObjectApi);
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

  const listAt = async <T extends KubernetesObject>(
    kind: KindRef<T>,
    listOptions: ListOptions & { signal?: AbortSignal } = {},
  ) => {
    const answer = await request(
      `listing ${kind.kind} objects`,
      () =>
        objects().list<T>(
          kind.apiVersion,
          kind.kind,
          listOptions.namespace,
          undefined,
          undefined,
          undefined,
          listOptions.fieldSelector,
          listOptions.labelSelector,
        ),
      { signal: listOptions.signal },
    );
    return { items: answer.items ?? [], resourceVersion: answer.metadata?.resourceVersion };
  };

  const get = <T extends KubernetesObject>(ref: ObjectRef<T>) =>
    request<T | undefined>(
      `reading ${ref.kind} ${ref.name}`,
      () =>
        objects().read<T>({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, namespace: ref.namespace },
        } as never),
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
    config: kc,
    signal: options.signal,
    request,
    client,
    listAt,
    async list<T extends KubernetesObject>(...args: unknown[]): Promise<T[]> {
      const [kind, listOptions] =
        typeof args[0] === "object"
          ? [args[0] as KindRef<T>, args[1] as ListOptions | undefined]
          : [{ apiVersion: args[0] as string, kind: args[1] as string }, args[2] as ListOptions | undefined];
      return (await listAt<T>(kind, listOptions)).items;
    },
    listPath(kind, namespace, signal) {
      return request(
        `resolving ${kind.kind}`,
        () => objects().listPath(kind.apiVersion, kind.kind, namespace),
        {
          signal,
        },
      );
    },
    get<T extends KubernetesObject>(...args: unknown[]) {
      return get(refFrom(args).ref as ObjectRef<T>);
    },
    apply<T extends KubernetesObject>(object: T, applyOptions: ApplyOptions = {}) {
      return request(`applying ${object.kind} ${object.metadata?.name ?? ""}`, () =>
        objects().patch<T>(
          object,
          undefined,
          applyOptions.dryRun ? "All" : undefined,
          FIELD_MANAGER,
          applyOptions.force ?? false,
          PatchStrategy.ServerSideApply,
        ),
      );
    },
    delete(...args: unknown[]) {
      const { ref } = refFrom(args);
      return request(
        `deleting ${ref.kind} ${ref.name}`,
        async () => {
          await objects().delete({
            apiVersion: ref.apiVersion,
            kind: ref.kind,
            metadata: { name: ref.name, namespace: ref.namespace },
          });
          return true;
        },
        { answers: { 404: () => false } },
      );
    },
    async servedKinds(groupVersion: string) {
      const list = await request<V1APIResourceList | undefined>(
        `discovering the resources of ${groupVersion}`,
        () => objects().resourceList(groupVersion),
        { answers: { 404: () => undefined } },
      );
      return list?.resources.filter((r) => !r.name.includes("/")).map((r) => r.kind);
    },
    async serverVersion() {
      const info = await request("reading the server's version", () => client(VersionApi).getCode());
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
