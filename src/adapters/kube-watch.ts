/**
 * The one watch engine: every wait in clouddrove is a list, then a watch from the list's resourceVersion,
 * re-evaluating the condition on every event, until it holds or the deadline passes. The list and the
 * start of each watch go through the connection's request path (kube.ts), so they are retried like any
 * call. A watch the server closes or the network cuts is resumed from the last version seen (after a
 * short jittered pause when it keeps ending at once); "too old" (410 Gone, as an ERROR event or as the
 * answer to the watch) falls back to a fresh list. Ctrl-C stops it at once.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { InterruptedError, OperationError } from "../errors.js";
import { scopedSignal, sleep } from "./abort.js";
import { KubeApiError } from "./kube-http.js";
import type { KindRef } from "./kube-kinds.js";
import { backoffDelayMs, DEFAULT_RETRY_POLICY } from "./kube-retry.js";
import type { Kube } from "./kube-types.js";

export interface WatchTarget<T extends KubernetesObject = KubernetesObject> extends KindRef<T> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WaitOptions<T> {
  timeoutMs: number;
  /** Stops the wait (besides the connection's signal), with InterruptedError. */
  signal?: AbortSignal;
  /** Called with the current objects after every change (for live progress). */
  onChange?: (objects: T[]) => void;
  /** What to say when the deadline passes: the caller knows why things are stuck. */
  explainTimeout?: (objects: T[]) => Promise<string> | string;
  /** The hint of the timeout error (default: fix it and run the command again). */
  hint?: string;
  /** Requests made, for the request-count benchmark. */
  stats?: { lists: number; watches: number };
}

/** A watch stream that lasted less than this without an event counts as cut at once (paced). */
const SHORT_STREAM_MS = 1_000;
/** Streams in a row that ended before any event, after which the wait lists the state again. */
const RELIST_AFTER_EMPTY_STREAMS = 2;

type StreamEnd = "done" | "ended" | "expired" | "timeout";

interface OpenWatch {
  controller: AbortController;
  /** Resolves when the stream ends, however it ends. */
  ended: Promise<void>;
}

/**
 * Starts one watch; resolves once the server accepted it (200), rejects with the failure that prevented
 * it (an HTTP status, a network error), so that the request path can retry it.
 */
function openWatch<T>(
  kube: Kube,
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  onEvent: (phase: string, object: T) => void,
  signal: AbortSignal | undefined,
): Promise<OpenWatch> {
  const controller = new AbortController();
  if (signal?.aborted) controller.abort();
  const parameters = new URLSearchParams({ watch: "true" });
  for (const [name, value] of Object.entries(query))
    if (value !== undefined) parameters.set(name, String(value));
  return new Promise((resolve, reject) => {
    let started = false;
    const request = { method: "GET" as const, path: `${path}?${parameters}`, signal: controller.signal };
    const ended = kube.http
      .stream(
        request,
        (line) => {
          let event: { type?: string; object?: T };
          try {
            event = JSON.parse(line);
          } catch {
            return; // a torn line of a cut stream: the watch resumes from the last version seen
          }
          if (event.type) onEvent(event.type, event.object as T);
        },
        () => {
          started = true;
          resolve({ controller, ended });
        },
      )
      .then(
        (answer) => {
          if (answer.status < 200 || answer.status > 299)
            throw new KubeApiError(answer.status, answer.headers, answer.text, request);
        },
        (error: unknown) => {
          if (!started) throw error;
          // Cut after it started: the caller resumes it.
        },
      );
    ended.catch(reject);
  });
}

/**
 * Resolves with the objects once `done(objects)` is true. Objects are keyed by namespace/name and
 * updated from watch events, so the condition always sees the latest state of each.
 */
export async function waitUntil<T extends KubernetesObject>(
  kube: Kube,
  target: WatchTarget<T>,
  done: (objects: T[]) => boolean,
  options: WaitOptions<T>,
): Promise<T[]> {
  const deadline = Date.now() + options.timeoutMs;
  // This wait's own signal: its listeners are never the command's.
  const signal = scopedSignal(options.signal, kube.signal);
  const objects = new Map<string, T>();
  const key = (o: KubernetesObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
  const snapshot = () => [...objects.values()];
  let resourceVersion: string | undefined;

  const relist = async (): Promise<boolean> => {
    if (options.stats) options.stats.lists++;
    const list = await kube.listAt(target, {
      namespace: target.namespace,
      labelSelector: target.labelSelector,
      fieldSelector: target.fieldSelector,
      signal,
    });
    objects.clear();
    for (const item of list.items) objects.set(key(item), item);
    resourceVersion = list.resourceVersion;
    options.onChange?.(snapshot());
    return done(snapshot());
  };

  if (signal?.aborted) throw new InterruptedError();
  const path = await kube.listPath(target, target.namespace, signal);
  if (await relist()) return snapshot();

  /** One watch from `resourceVersion`, until the condition holds, the stream ends, or the deadline. */
  const watchOnce = async (remaining: number): Promise<{ end: StreamEnd; events: number }> => {
    let events = 0;
    let finish: (end: StreamEnd) => void = () => {};
    const finished = new Promise<StreamEnd>((resolve) => {
      finish = resolve;
    });
    const onEvent = (phase: string, object: T) => {
      if (phase === "ERROR") {
        // 410 Gone: the version is too old to resume from (any other Status: start over as well).
        finish("expired");
        return;
      }
      events++;
      if (object?.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
      if (phase === "BOOKMARK") return;
      if (phase === "DELETED") objects.delete(key(object));
      else objects.set(key(object), object);
      options.onChange?.(snapshot());
      if (done(snapshot())) finish("done");
    };
    const opened = await kube.request<OpenWatch | "expired">(
      `watching ${target.kind} objects`,
      () => {
        if (options.stats) options.stats.watches++;
        return openWatch(
          kube,
          path,
          {
            resourceVersion,
            allowWatchBookmarks: true,
            labelSelector: target.labelSelector,
            fieldSelector: target.fieldSelector,
            timeoutSeconds: Math.max(1, Math.ceil(remaining / 1000)),
          },
          onEvent,
          signal,
        );
      },
      { answers: { 410: () => "expired" }, deadline, signal },
    );
    if (opened === "expired") return { end: "expired", events };
    const timer = setTimeout(() => finish("timeout"), remaining);
    const onAbort = () => finish("timeout");
    signal?.addEventListener("abort", onAbort, { once: true });
    opened.ended.then(() => finish("ended"));
    try {
      return { end: await finished, events };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      opened.controller.abort();
    }
  };

  for (let shortStreams = 0; ; ) {
    if (signal?.aborted) throw new InterruptedError();
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const why = options.explainTimeout ? await options.explainTimeout(snapshot()) : "";
      throw new OperationError(
        `Timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${target.kind}${why ? `: ${why}` : ""}`,
        {
          hint:
            options.hint ??
            "Fix what is stuck (see above) and run the same command again; it continues where it stopped.",
        },
      );
    }
    const started = Date.now();
    const { end, events } = await watchOnce(remaining);
    if (end === "done") return snapshot();
    if (end === "expired") {
      if (await relist()) return snapshot();
      continue;
    }
    if (end === "ended") {
      // Resumed from the last version seen; a stream that keeps ending at once is paced, not hammered.
      if (events > 0 || Date.now() - started >= SHORT_STREAM_MS) shortStreams = 0;
      else {
        shortStreams++;
        // A connection cut before any event arrived would resume from the same version, and can lose the
        // same events every time (a proxy resetting streams after a few events): from the second such
        // stream on, the state is listed again, which needs no event to get through.
        if (shortStreams >= RELIST_AFTER_EMPTY_STREAMS && (await relist())) return snapshot();
        const pause = backoffDelayMs(DEFAULT_RETRY_POLICY, shortStreams, Math.random);
        await sleep(Math.min(pause, Math.max(0, deadline - Date.now())), signal);
      }
    }
  }
}
