/**
 * The Kubernetes API through @kubernetes/client-node: connect from --kubeconfig/--context (or a given
 * kubeconfig text), generic list/get/apply/delete by apiVersion and kind, and waits that watch instead of
 * sleeping. Connection failures and 401/403 are CredentialsError (exit 4) naming the context; transient
 * failures (5xx, 429, ECONNRESET) are retried with backoff. Writes are server-side apply with field
 * manager `clouddrove`. Other commands extend this module with the helpers they need.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  ApiException,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
} from "@kubernetes/client-node";
import { CredentialsError, InterruptedError, OperationError } from "../errors.js";

export const FIELD_MANAGER = "clouddrove";

export interface KubeConnectOptions {
  /** --kubeconfig; else $KUBECONFIG (from `env`), else ~/.kube/config. */
  kubeconfigPath?: string;
  /** A kubeconfig document to use instead of a file (e.g. the sandbox's). */
  kubeconfigText?: string;
  /** --context; else the kubeconfig's current context. */
  context?: string;
  env?: NodeJS.ProcessEnv;
  /** Attempts for transient failures (default 4) and the first backoff delay (default 250 ms). */
  attempts?: number;
  retryDelayMs?: number;
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

/** Resolves a resource's URL path from discovery (KubernetesObjectApi keeps this protected). */
class ObjectApi extends KubernetesObjectApi {
  listPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    return this.specUriPath({ apiVersion, kind, metadata: { namespace } }, "list");
  }
}

export interface Kube {
  readonly context: string;
  readonly server: string;
  readonly config: KubeConfig;
  list<T extends KubernetesObject = KubernetesObject>(
    apiVersion: string,
    kind: string,
    options?: ListOptions,
  ): Promise<T[]>;
  /** Undefined when the object does not exist. */
  get<T extends KubernetesObject = KubernetesObject>(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ): Promise<T | undefined>;
  /** Server-side apply (field manager clouddrove); creates the object when absent. */
  apply<T extends KubernetesObject = KubernetesObject>(object: T, options?: ApplyOptions): Promise<T>;
  /** False when the object was already gone. */
  delete(apiVersion: string, kind: string, name: string, namespace?: string): Promise<boolean>;
  /** Watches the object until `ready` holds for it (it may not exist yet), or fails at the deadline. */
  waitFor<T extends KubernetesObject = KubernetesObject>(
    apiVersion: string,
    kind: string,
    name: string,
    namespace: string | undefined,
    ready: (object: T) => boolean,
    timeoutMs: number,
  ): Promise<T>;
  /** Watches until the object is gone, or fails at the deadline. */
  waitForDeletion(
    apiVersion: string,
    kind: string,
    name: string,
    namespace: string | undefined,
    timeoutMs: number,
  ): Promise<void>;
}

function defaultKubeconfigPath(env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env.KUBECONFIG?.split(":").find((p) => p !== "");
  if (fromEnv) return fromEnv;
  const home = env.HOME ?? env.USERPROFILE;
  return home ? join(home, ".kube", "config") : undefined;
}

function networkCode(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string }; errno?: string };
  return e?.code ?? e?.cause?.code ?? e?.errno;
}

const TRANSIENT_CODES = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "UND_ERR_SOCKET"]);
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "CERT_HAS_EXPIRED",
]);

export function isTransient(error: unknown): boolean {
  if (error instanceof ApiException) return error.code === 429 || error.code >= 500;
  const code = networkCode(error);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const header = error.headers?.["retry-after"] ?? error.headers?.["Retry-After"];
  const seconds = header === undefined ? Number.NaN : Number(header);
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

function statusMessage(error: ApiException<unknown>): string {
  const body = error.body as { message?: string } | string | undefined;
  if (typeof body === "string") {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return body?.message ?? error.message;
}

export async function connectKube(options: KubeConnectOptions = {}): Promise<Kube> {
  const env = options.env ?? process.env;
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
  const context = kc.getCurrentContext();
  const server = kc.getCurrentCluster()?.server ?? "";
  if (!context || !server) {
    throw new CredentialsError("The kubeconfig has no current context with a cluster.", {
      hint: "Pass --context NAME, or run `clouddrove cluster create` to write one.",
    });
  }

  const api = kc.makeApiClient(ObjectApi);
  const attempts = options.attempts ?? 4;
  const baseDelay = options.retryDelayMs ?? 250;

  const explain = (error: unknown, action: string): Error => {
    if (error instanceof ApiException && (error.code === 401 || error.code === 403)) {
      return new CredentialsError(
        `The cluster refused the credentials of context ${context} (${error.code}) while ${action}.`,
        {
          cause: error,
          hint:
            error.code === 401
              ? `Refresh the credentials of context ${context} (for EKS: \`aws eks update-kubeconfig --name CLUSTER\`, then check AWS credentials).`
              : `The identity of context ${context} lacks permission: ${statusMessage(error)}`,
        },
      );
    }
    const code = networkCode(error);
    if (
      (code && (UNREACHABLE_CODES.has(code) || TRANSIENT_CODES.has(code))) ||
      /fetch failed|ECONNREFUSED/.test(String(error))
    ) {
      return new CredentialsError(
        `The cluster of context ${context} (${server}) could not be reached while ${action}.`,
        {
          cause: error,
          hint: "Check that the cluster exists and is reachable, and that --kubeconfig/--context name it.",
        },
      );
    }
    if (error instanceof ApiException) {
      return new OperationError(
        `The Kubernetes API answered ${error.code} while ${action}: ${statusMessage(error)}`,
        {
          cause: error,
          hint: "See the message above; run again with --verbose for details.",
        },
      );
    }
    return error instanceof Error ? error : new Error(String(error));
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (options.signal?.aborted) return reject(new InterruptedError());
      const onAbort = () => {
        clearTimeout(timer);
        reject(new InterruptedError());
      };
      const timer = setTimeout(() => {
        options.signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });

  async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (attempt < attempts && isTransient(error)) {
          await sleep(retryAfterMs(error) ?? baseDelay * 2 ** (attempt - 1) * (1 + Math.random() / 4));
          continue;
        }
        throw explain(error, action);
      }
    }
  }

  const isNotFound = (error: unknown) => error instanceof ApiException && error.code === 404;

  /**
   * One watch on `path` for the object `name`, from `resourceVersion`, until `stop(phase, object)` says so,
   * the stream ends, or `remainingMs` pass. A stream that ends at once (an error) is followed by a short
   * pause so that the caller's read-and-retry loop never spins.
   */
  const watchOnce = async (
    path: string,
    name: string,
    resourceVersion: string | undefined,
    remainingMs: number,
    stop: (phase: string, object: KubernetesObject) => boolean,
  ): Promise<void> => {
    const watch = new Watch(kc);
    const started = Date.now();
    await new Promise<void>((resolve) => {
      let controller: AbortController | undefined;
      const finish = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", finish);
        controller?.abort();
        resolve();
      };
      const timer = setTimeout(finish, remainingMs);
      options.signal?.addEventListener("abort", finish, { once: true });
      watch
        .watch(
          path,
          {
            fieldSelector: `metadata.name=${name}`,
            resourceVersion,
            timeoutSeconds: Math.max(1, Math.ceil(remainingMs / 1000)),
          },
          (phase, object: KubernetesObject) => {
            if (stop(phase, object)) finish();
          },
          () => finish(),
        )
        .then((c) => {
          controller = c;
        }, finish);
    });
    if (options.signal?.aborted) throw new InterruptedError();
    const elapsed = Date.now() - started;
    if (elapsed < 250) await sleep(Math.min(250 - elapsed, Math.max(0, remainingMs - elapsed)));
  };

  const kube: Kube = {
    context,
    server,
    config: kc,
    async list<T extends KubernetesObject>(apiVersion: string, kind: string, listOptions: ListOptions = {}) {
      const answer = await call(`listing ${kind} objects`, () =>
        api.list<T>(
          apiVersion,
          kind,
          listOptions.namespace,
          undefined,
          undefined,
          undefined,
          listOptions.fieldSelector,
          listOptions.labelSelector,
        ),
      );
      return answer.items ?? [];
    },
    async get<T extends KubernetesObject>(
      apiVersion: string,
      kind: string,
      name: string,
      namespace?: string,
    ) {
      return call(`reading ${kind} ${name}`, async () => {
        try {
          return await api.read<T>({ apiVersion, kind, metadata: { name, namespace } } as never);
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      });
    },
    async apply<T extends KubernetesObject>(object: T, applyOptions: ApplyOptions = {}) {
      const name = `${object.kind} ${object.metadata?.name ?? ""}`;
      return call(`applying ${name}`, () =>
        api.patch<T>(
          object,
          undefined,
          applyOptions.dryRun ? "All" : undefined,
          FIELD_MANAGER,
          applyOptions.force ?? false,
          PatchStrategy.ServerSideApply,
        ),
      );
    },
    async delete(apiVersion: string, kind: string, name: string, namespace?: string) {
      return call(`deleting ${kind} ${name}`, async () => {
        try {
          await api.delete({ apiVersion, kind, metadata: { name, namespace } });
          return true;
        } catch (error) {
          if (isNotFound(error)) return false;
          throw error;
        }
      });
    },
    async waitFor<T extends KubernetesObject>(
      apiVersion: string,
      kind: string,
      name: string,
      namespace: string | undefined,
      ready: (object: T) => boolean,
      timeoutMs: number,
    ) {
      const path = await call(`resolving ${kind}`, () => api.listPath(apiVersion, kind, namespace));
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await kube.get<T>(apiVersion, kind, name, namespace);
        if (current && ready(current)) return current;
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new OperationError(`${kind} ${name} was not ready after ${Math.round(timeoutMs / 1000)} s.`, {
            hint: `See why: \`kubectl describe ${kind.toLowerCase()} ${name}${namespace ? ` -n ${namespace}` : ""}\`.`,
          });
        }
        // Any change wakes the loop up to read and test again; a deletion after the read cannot be missed.
        await watchOnce(
          path,
          name,
          current?.metadata?.resourceVersion,
          remaining,
          (phase, object) => phase !== "DELETED" && ready(object as T),
        );
      }
    },
    async waitForDeletion(apiVersion, kind, name, namespace, timeoutMs) {
      const path = await call(`resolving ${kind}`, () => api.listPath(apiVersion, kind, namespace));
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await kube.get(apiVersion, kind, name, namespace);
        if (!current) return;
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new OperationError(
            `${kind} ${name} was still there after ${Math.round(timeoutMs / 1000)} s.`,
            {
              hint: `Something holds it (a finalizer?): \`kubectl get ${kind.toLowerCase()} ${name}${namespace ? ` -n ${namespace}` : ""} -o yaml\`.`,
            },
          );
        }
        await watchOnce(
          path,
          name,
          current.metadata?.resourceVersion,
          remaining,
          (phase) => phase === "DELETED",
        );
      }
    },
  };
  return kube;
}
