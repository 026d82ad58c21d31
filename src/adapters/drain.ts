/**
 * Cordon, uncordon and drain with kubectl's semantics (k8s.io/kubectl pkg/drain): every pod is evicted
 * through the Eviction API (POST pods/NAME/eviction, policy/v1), all at once; 429 means a
 * PodDisruptionBudget forbids it now and is retried every 5 s; 404 means the pod is already gone; a pod
 * counts as gone when it is 404 or comes back with another UID (a StatefulSet pod recreated under the
 * same name). One deadline covers the whole node. Waiting is a watch on the node's pods, not a poll.
 * Transient API failures (5xx other than the two-budgets refusal, connection resets) are retried within
 * the same deadline: a drain should survive a flaky control plane.
 */
import { ApiException } from "@kubernetes/client-node";
import { CredentialsError, InterruptedError, OperationError } from "../errors.js";
import type { Kube } from "./kube.js";
import { isTransient } from "./kube.js";
import { waitUntil } from "./kube-watch.js";

export interface DrainStats {
  evictions: number;
  refusals: number;
  patches: number;
  reads: number;
  lists: number;
  watches: number;
}

export const newDrainStats = (): DrainStats => ({
  evictions: 0,
  refusals: 0,
  patches: 0,
  reads: 0,
  lists: 0,
  watches: 0,
});

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface EvictionOptions {
  /** Epoch ms: the one deadline for the node (evictions, retries and waiting for the pods to go). */
  deadline: number;
  /** The --timeout as the user wrote it, for messages. */
  timeoutText: string;
  /** Pause after a 429 (kubectl: 5 s). */
  retryIntervalMs?: number;
  /** Overrides each pod's terminationGracePeriodSeconds (kubectl --grace-period); the pod's own when unset. */
  gracePeriodSeconds?: number;
  signal?: AbortSignal;
  stats?: DrainStats;
  /** Live progress: pods evicted so far, and what a refused one waits on. */
  onProgress?: (progress: { evicted: number; gone: number; total: number; waiting?: string }) => void;
}

export const EVICTION_RETRY_MS = 5_000;

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function apiMessage(error: unknown): string {
  if (!(error instanceof ApiException)) return error instanceof Error ? error.message : String(error);
  const body = error.body as unknown;
  try {
    const parsed = (typeof body === "string" ? JSON.parse(body) : body) as {
      message?: string;
      details?: { causes?: Array<{ message?: string }> };
    };
    const cause = parsed?.details?.causes?.[0]?.message;
    return [parsed?.message, cause].filter(Boolean).join(" ") || error.message;
  } catch {
    return typeof body === "string" && body !== "" ? body : error.message;
  }
}

async function coreApi(kube: Kube) {
  const { CoreV1Api } = await import("@kubernetes/client-node");
  return kube.config.makeApiClient(CoreV1Api);
}

/** A strategic-merge patch of a node (what `kubectl cordon` sends), retried on transient failures. */
export async function patchNode(
  kube: Kube,
  node: string,
  patch: Record<string, unknown>,
  options: { signal?: AbortSignal; stats?: DrainStats; attempts?: number } = {},
): Promise<void> {
  const { PatchStrategy, setHeaderOptions } = await import("@kubernetes/client-node");
  const api = await coreApi(kube);
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      if (options.stats) options.stats.patches++;
      await api.patchNode(
        { name: node, body: patch, fieldManager: "clouddrove" },
        setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
      );
      return;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) {
        throw new OperationError(`Node ${node} does not exist.`, {
          hint: "List the nodes: `kubectl get nodes`.",
        });
      }
      if (error instanceof ApiException && (error.code === 401 || error.code === 403)) {
        throw new CredentialsError(
          `The cluster refused to change node ${node} (${error.code}): ${apiMessage(error)}`,
          {
            hint: "The identity of this kubeconfig context needs permission to patch nodes.",
          },
        );
      }
      if (attempt < attempts && isTransient(error)) {
        await pause(250 * 2 ** (attempt - 1), options.signal);
        continue;
      }
      throw new OperationError(`Changing node ${node} failed: ${apiMessage(error)}`, {
        cause: error,
        hint: "Run the same command again; if it keeps failing, check the API server.",
      });
    }
  }
}

/** kubectl cordon / uncordon. */
export function setUnschedulable(
  kube: Kube,
  node: string,
  unschedulable: boolean,
  options: { signal?: AbortSignal; stats?: DrainStats } = {},
): Promise<void> {
  // uncordon removes the field, as kubectl does, rather than writing false.
  return patchNode(kube, node, { spec: { unschedulable: unschedulable ? true : null } }, options);
}

/** Sets (or, with null, removes) one annotation on a node. */
export function annotateNode(
  kube: Kube,
  node: string,
  key: string,
  value: string | null,
  options: { signal?: AbortSignal; stats?: DrainStats } = {},
): Promise<void> {
  return patchNode(kube, node, { metadata: { annotations: { [key]: value } } }, options);
}

type EvictionResult = "evicted" | "gone";

/** Evicts one pod, retrying 429 every retryIntervalMs and transient failures, until the deadline. */
async function evictOne(
  kube: Kube,
  pod: PodRef,
  options: EvictionOptions,
  onRefused: (message: string) => void,
): Promise<EvictionResult> {
  const api = await coreApi(kube);
  const interval = options.retryIntervalMs ?? EVICTION_RETRY_MS;
  const body = {
    apiVersion: "policy/v1",
    kind: "Eviction",
    metadata: { name: pod.name, namespace: pod.namespace },
    ...(options.gracePeriodSeconds !== undefined
      ? { deleteOptions: { gracePeriodSeconds: options.gracePeriodSeconds } }
      : {}),
  };
  let transientFailures = 0;
  let lastRefusal = "";
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError();
    if (Date.now() >= options.deadline) {
      throw new DrainTimeout(pod, lastRefusal);
    }
    try {
      if (options.stats) options.stats.evictions++;
      await api.createNamespacedPodEviction({ name: pod.name, namespace: pod.namespace, body });
      return "evicted";
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return "gone";
      const message = apiMessage(error);
      if (error instanceof ApiException && error.code === 429) {
        if (options.stats) options.stats.refusals++;
        lastRefusal = message;
        onRefused(`${pod.namespace}/${pod.name}: ${message}`);
        await pause(Math.min(interval, Math.max(0, options.deadline - Date.now())), options.signal);
        continue;
      }
      if (
        error instanceof ApiException &&
        error.code === 500 &&
        /more than one PodDisruptionBudget/i.test(message)
      ) {
        throw new OperationError(`Pod ${pod.namespace}/${pod.name} cannot be evicted: ${message}`, {
          hint: "Leave one PodDisruptionBudget per pod (kubectl get pdb -n NAMESPACE); the node stays cordoned.",
        });
      }
      if (error instanceof ApiException && (error.code === 401 || error.code === 403)) {
        throw new CredentialsError(
          `The cluster refused to evict ${pod.namespace}/${pod.name} (${error.code}): ${message}`,
          {
            hint: "The identity of this kubeconfig context needs permission to create pods/eviction.",
          },
        );
      }
      if (isTransient(error)) {
        transientFailures++;
        lastRefusal = message;
        await pause(Math.min(250 * 2 ** Math.min(transientFailures, 5), interval), options.signal);
        continue;
      }
      throw new OperationError(`Evicting ${pod.namespace}/${pod.name} failed: ${message}`, {
        cause: error,
        hint: "See the message above; the node stays cordoned.",
      });
    }
  }
}

/** The node's deadline passed with pods still there. */
export class DrainTimeout extends OperationError {
  constructor(
    readonly pod: PodRef,
    readonly lastRefusal: string,
  ) {
    super(
      `the eviction of ${pod.namespace}/${pod.name} was still refused at the deadline${lastRefusal ? `: ${lastRefusal}` : ""}`,
    );
  }
}

/**
 * Evicts `pods` (all at once, as kubectl does) and waits until every one is gone: 404, or another UID
 * under the same name. Pods already terminating are only waited for.
 */
export async function evictAndWait(
  kube: Kube,
  node: string,
  pods: Array<PodRef & { terminating?: boolean }>,
  options: EvictionOptions,
): Promise<{ evicted: number; alreadyGone: number }> {
  const total = pods.length;
  let evicted = 0;
  let alreadyGone = 0;
  let gone = 0;
  let waiting: string | undefined;
  const report = () => options.onProgress?.({ evicted: evicted + alreadyGone, gone, total, waiting });
  const failTimeout = (stillThere: string[], why: string): never => {
    throw new OperationError(
      `Draining ${node} did not finish within ${options.timeoutText}: ${stillThere.length} pod(s) still there (${stillThere.join(", ")})${why ? `; ${why}` : ""}.`,
      {
        hint: "The node stays cordoned. Free what blocks (a PodDisruptionBudget, a pod that does not terminate) before continuing.",
      },
    );
  };
  // All at once, and every one to its end: a timeout then names every pod that is still there.
  const outcomes = await Promise.allSettled(
    pods
      .filter((p) => !p.terminating)
      .map(async (pod) => {
        const result = await evictOne(kube, pod, options, (message) => {
          waiting = `waiting on a disruption budget: ${message}`;
          report();
        });
        if (result === "evicted") evicted++;
        else alreadyGone++;
        report();
      }),
  );
  const errors = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
  const other = errors.find((e) => !(e instanceof DrainTimeout));
  if (other) throw other;
  const timeouts = errors as DrainTimeout[];
  if (timeouts.length > 0) {
    failTimeout(
      timeouts.map((t) => `${t.pod.namespace}/${t.pod.name}`),
      `last refusal: ${timeouts[0]?.lastRefusal.replace(/\.$/, "") || "none"}`,
    );
  }
  waiting = undefined;
  report();
  const pending = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p.uid]));
  const stillThere = (objects: Array<{ metadata?: { namespace?: string; name?: string; uid?: string } }>) =>
    objects
      .filter((o) => pending.get(`${o.metadata?.namespace}/${o.metadata?.name}`) === o.metadata?.uid)
      .map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`);
  const remaining = Math.max(1, options.deadline - Date.now());
  let lastStill = [...pending.keys()];
  try {
    await waitUntil(
      kube,
      { apiVersion: "v1", kind: "Pod", fieldSelector: `spec.nodeName=${node}` },
      (objects) => stillThere(objects).length === 0,
      {
        timeoutMs: remaining,
        signal: options.signal,
        stats: options.stats,
        onChange: (objects) => {
          lastStill = stillThere(objects);
          gone = total - lastStill.length;
          report();
        },
        explainTimeout: (objects) => `still terminating: ${stillThere(objects).join(", ")}`,
      },
    );
  } catch (error) {
    if (error instanceof OperationError && /^Timed out/.test(error.message)) {
      failTimeout(lastStill, "they were evicted but have not terminated");
    }
    throw error;
  }
  gone = total;
  report();
  return { evicted, alreadyGone };
}
