/**
 * Cordon, uncordon and drain with kubectl's semantics (k8s.io/kubectl pkg/drain): every pod is evicted
 * through the Eviction API (POST pods/NAME/eviction, policy/v1), all at once; 429 means a
 * PodDisruptionBudget forbids it now and is retried every 5 s; 404 means the pod is already gone; a pod
 * counts as gone when it is 404 or comes back with another UID (a StatefulSet pod recreated under the
 * same name). One deadline covers the whole node. Waiting is a watch on the node's pods, not a poll.
 * Transient API failures (5xx other than the two-budgets refusal, connection resets) are retried by the
 * connection's request path (kube.ts) within its budget and the node's deadline: a drain survives a flaky
 * control plane.
 */
import { InterruptedError, OperationError } from "../errors.js";
import { sleep } from "./abort.js";
import { FIELD_MANAGER, type Kube } from "./kube.js";
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

/** A strategic-merge patch of a node, as `kubectl cordon` sends it: null removes a field. */
export interface NodePatch {
  spec?: { unschedulable?: true | null };
  metadata?: { annotations?: Record<string, string | null> };
}

/** Patches a node through the connection's request path (transient failures retried there). */
export async function patchNode(
  kube: Kube,
  node: string,
  patch: NodePatch,
  options: { signal?: AbortSignal; stats?: DrainStats } = {},
): Promise<void> {
  await kube.request(
    `changing node ${node}`,
    () => {
      if (options.stats) options.stats.patches++;
      return kube.http.json({
        method: "PATCH",
        path: `/api/v1/nodes/${encodeURIComponent(node)}?fieldManager=${FIELD_MANAGER}`,
        contentType: "application/strategic-merge-patch+json",
        body: patch,
      });
    },
    {
      signal: options.signal,
      refine: (failure) =>
        failure.status === 404
          ? new OperationError(`Node ${node} does not exist.`, {
              hint: "List the nodes: `kubectl get nodes`.",
            })
          : undefined,
    },
  );
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

/**
 * Evicts one pod: a 429 (a disruption budget refuses it now) is paced every retryIntervalMs until the
 * deadline; transient failures are the request path's, within the same deadline.
 */
async function evictOne(
  kube: Kube,
  pod: PodRef,
  options: EvictionOptions,
  onRefused: (message: string) => void,
): Promise<EvictionResult> {
  const interval = options.retryIntervalMs ?? EVICTION_RETRY_MS;
  const body = {
    apiVersion: "policy/v1",
    kind: "Eviction",
    metadata: { name: pod.name, namespace: pod.namespace },
    ...(options.gracePeriodSeconds !== undefined
      ? { deleteOptions: { gracePeriodSeconds: options.gracePeriodSeconds } }
      : {}),
  };
  const name = `${pod.namespace}/${pod.name}`;
  let lastRefusal = "";
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError();
    if (Date.now() >= options.deadline) throw new DrainTimeout(pod, lastRefusal);
    const result = await kube.request<EvictionResult | { refused: string }>(
      `evicting pod ${name}`,
      async () => {
        if (options.stats) options.stats.evictions++;
        await kube.http.json({
          method: "POST",
          path: `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/eviction`,
          body,
        });
        return "evicted";
      },
      {
        signal: options.signal,
        deadline: options.deadline,
        answers: { 404: () => "gone", 429: (failure) => ({ refused: failure.message }) },
        refine: (failure) =>
          failure.status === 500 && /more than one PodDisruptionBudget/i.test(failure.message)
            ? new OperationError(`Pod ${name} cannot be evicted: ${failure.message}`, {
                hint: "Leave one PodDisruptionBudget per pod (kubectl get pdb -n NAMESPACE); the node stays cordoned.",
              })
            : undefined,
      },
    );
    if (typeof result === "string") return result;
    if (options.stats) options.stats.refusals++;
    lastRefusal = result.refused;
    onRefused(`${name}: ${result.refused}`);
    await sleep(Math.min(interval, Math.max(0, options.deadline - Date.now())), options.signal);
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
