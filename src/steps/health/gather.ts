/**
 * One read of everything the registry's health depends on, as a ClusterSnapshot for core/health.
 * Independent reads go out together; each is a plain list or get (no polling here: callers that wait
 * re-gather only when a watch says something changed).
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { hasReadyCondition } from "../../core/health/pod-ready.js";
import type { ClusterSnapshot } from "../../core/health/snapshot.js";
import { names } from "../../core/render/names.js";

const BACKUP_SELECTOR = "app.kubernetes.io/component=backup";

export async function gatherSnapshot(kube: Kube, namespace: string): Promise<ClusterSnapshot> {
  const [nodes, deployment, pods, claim, volume, service, endpoints, policies, pdb, jobs, troubled] =
    await Promise.all([
      kube.list(Kinds.Node),
      kube.get(named(Kinds.Deployment, names.deployment, namespace)),
      kube.list(Kinds.Pod, { namespace, labelSelector: names.registryPodSelector }),
      kube.get(named(Kinds.PersistentVolumeClaim, names.claim, namespace)),
      kube.get(named(Kinds.PersistentVolume, names.volume(namespace))),
      kube.get(named(Kinds.Service, names.service, namespace)),
      kube.get(named(Kinds.Endpoints, names.service, namespace)),
      kube.list(Kinds.NetworkPolicy, { namespace }),
      kube.get(named(Kinds.PodDisruptionBudget, names.podDisruptionBudget, namespace)),
      kube.list(Kinds.Job, { namespace, labelSelector: BACKUP_SELECTOR }),
      kube.list(Kinds.Pod, { fieldSelector: "status.phase!=Running,status.phase!=Succeeded" }),
    ]);
  const snapshot: ClusterSnapshot = {
    namespace,
    nodes,
    deployment,
    pods,
    troubledPods: troubled,
    claim,
    volume,
    service,
    endpoints,
    networkPolicies: policies,
    disruptionBudget: pdb,
    backupJobs: jobs,
  };
  snapshot.podEvents = await latestPodEvents(kube, namespace, snapshot.pods);
  return snapshot;
}

/** The newest warning event per not-ready registry pod (e.g. FailedScheduling, FailedMount). */
async function latestPodEvents(
  kube: Kube,
  namespace: string,
  pods: V1Pod[],
): Promise<Record<string, string>> {
  const notReady = pods.filter((p) => !hasReadyCondition(p));
  if (notReady.length === 0) return {};
  const events = await kube.list(Kinds.Event, { namespace, fieldSelector: "involvedObject.kind=Pod" });
  const latest: Record<string, string> = {};
  // Lists give dates as Date objects: compared as times, not as their strings ("Mon …" < "Tue …").
  const time = (event: (typeof events)[number]) =>
    new Date(event.lastTimestamp ?? event.eventTime ?? 0).getTime() || 0;
  const sorted = [...events].sort((a, b) => time(a) - time(b));
  for (const event of sorted) {
    if (event.type !== "Warning") continue;
    const pod = event.involvedObject?.name;
    if (pod && notReady.some((p) => p.metadata?.name === pod))
      latest[pod] = `${event.reason}: ${event.message}`;
  }
  return latest;
}
