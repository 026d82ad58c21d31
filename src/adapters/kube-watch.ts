/**
 * Waiting on the cluster with watches, not sleep loops: list once, then watch from the list's
 * resourceVersion and re-evaluate on every event, until the condition holds or the deadline passes.
 * A cut watch is resumed from the last version seen; "too old" (410) falls back to a fresh list.
 */
import { type KubernetesObject, Watch } from "@kubernetes/client-node";
import { InterruptedError, OperationError } from "../errors.js";
import type { Kube } from "./kube.js";

export interface WatchTarget {
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WaitOptions<T> {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called with the current objects after every change (for live progress). */
  onChange?: (objects: T[]) => void;
  /** What to say when the deadline passes: the caller knows why things are stuck. */
  explainTimeout?: (objects: T[]) => Promise<string> | string;
  /** Requests made, for the request-count benchmark. */
  stats?: { lists: number; watches: number };
}

/**
 * One object API per connection: KubernetesObjectApi caches discovery per instance, so a fresh instance
 * per wait would ask the server for /apis/GROUP/VERSION again every time.
 */
interface PathApi {
  path(t: WatchTarget): Promise<string>;
  list<T extends KubernetesObject>(
    ...args: Parameters<import("@kubernetes/client-node").KubernetesObjectApi["list"]>
  ): Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
}
const objectApis = new WeakMap<Kube, Promise<PathApi>>();

function objectApi(kube: Kube): Promise<PathApi> {
  let api = objectApis.get(kube);
  if (!api) {
    api = import("@kubernetes/client-node").then(({ KubernetesObjectApi }) => {
      class Api extends KubernetesObjectApi {
        path(t: WatchTarget): Promise<string> {
          return this.specUriPath(
            { apiVersion: t.apiVersion, kind: t.kind, metadata: { namespace: t.namespace } },
            "list",
          );
        }
      }
      return kube.config.makeApiClient(Api) as unknown as PathApi;
    });
    objectApis.set(kube, api);
  }
  return api;
}

/** The list URL path of a kind (from discovery), e.g. /apis/apps/v1/namespaces/ns/deployments. */
async function listPath(kube: Kube, target: WatchTarget): Promise<string> {
  return (await objectApi(kube)).path(target);
}

/**
 * Resolves with the objects once `done(objects)` is true. Objects are keyed by namespace/name and
 * updated from watch events, so the condition always sees the latest state of each.
 */
export async function waitUntil<T extends KubernetesObject>(
  kube: Kube,
  target: WatchTarget,
  done: (objects: T[]) => boolean,
  options: WaitOptions<T>,
): Promise<T[]> {
  const deadline = Date.now() + options.timeoutMs;
  const path = await listPath(kube, target);
  const watch = new Watch(kube.config);
  const objects = new Map<string, T>();
  const key = (o: KubernetesObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
  const snapshot = () => [...objects.values()];

  const relist = async (): Promise<string | undefined> => {
    if (options.stats) options.stats.lists++;
    const api = await objectApi(kube);
    const list = await api.list<T>(
      target.apiVersion,
      target.kind,
      target.namespace,
      undefined,
      undefined,
      undefined,
      target.fieldSelector,
      target.labelSelector,
    );
    objects.clear();
    for (const item of list.items) objects.set(key(item), item);
    return list.metadata?.resourceVersion;
  };

  let resourceVersion: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      resourceVersion = await relist();
      break;
    } catch (error) {
      // The list itself goes through the same transient-error tolerance as everything else.
      if (attempt >= 4 || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
  options.onChange?.(snapshot());
  if (done(snapshot())) return snapshot();

  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError();
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const why = options.explainTimeout ? await options.explainTimeout(snapshot()) : "";
      throw new OperationError(
        `Timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${target.kind}${why ? `: ${why}` : ""}`,
        {
          hint: "Fix what is stuck (see above) and run the same command again; it continues where it stopped.",
        },
      );
    }
    const outcome = await new Promise<"done" | "cut" | "gone" | "timeout" | "aborted">((resolve) => {
      let controller: AbortController | undefined;
      let settled = false;
      const finish = (how: "done" | "cut" | "gone" | "timeout" | "aborted") => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        controller?.abort();
        resolve(how);
      };
      const onAbort = () => finish("aborted");
      const timer = setTimeout(() => finish("timeout"), remaining);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      if (options.stats) options.stats.watches++;
      watch
        .watch(
          path,
          {
            resourceVersion,
            allowWatchBookmarks: true,
            labelSelector: target.labelSelector,
            fieldSelector: target.fieldSelector,
            timeoutSeconds: Math.max(1, Math.ceil(remaining / 1000)),
          },
          (phase, object: T) => {
            if (phase === "ERROR") {
              // 410 Gone: our version is too old to resume from; relist.
              finish("gone");
              return;
            }
            if (object?.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
            if (phase === "BOOKMARK") return;
            if (phase === "DELETED") objects.delete(key(object));
            else objects.set(key(object), object);
            options.onChange?.(snapshot());
            if (done(snapshot())) finish("done");
          },
          () => finish("cut"),
        )
        .then(
          (c) => {
            controller = c;
            if (settled) c.abort();
          },
          () => finish("cut"),
        );
    });
    if (outcome === "done") return snapshot();
    if (outcome === "aborted") throw new InterruptedError();
    if (outcome === "gone" || outcome === "cut") {
      // A cut watch resumes from the last version; after 410, or when the resume fails, relist.
      if (outcome === "gone") {
        try {
          resourceVersion = await relist();
        } catch {
          await new Promise((r) => setTimeout(r, 250));
        }
        options.onChange?.(snapshot());
        if (done(snapshot())) return snapshot();
      } else {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
