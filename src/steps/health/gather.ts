/**
 * One read of everything the registry's health depends on, as a ClusterSnapshot for core/health.
 * Independent reads go out together; each is a plain list or get (no polling here: callers that wait
 * re-gather only when a watch says something changed).
 */
import type { Kube } from "../../adapters/kube.js";
import type { ClusterSnapshot, Obj } from "../../core/health/snapshot.js";
import { names } from "../../core/render/names.js";

const BACKUP_SELECTOR = "app.kubernetes.io/component=backup";

export async function gatherSnapshot(kube: Kube, namespace: string): Promise<ClusterSnapshot> {
  const [nodes, deployment, pods, claim, volume, service, endpoints, policies, pdb, jobs, troubled] =
    await Promise.all([
      kube.list<Obj & { metadata: Obj }>("v1", "Node"),
      kube.get("apps/v1", "Deployment", names.deployment, namespace),
      kube.list("v1", "Pod", { namespace, labelSelector: names.registryPodSelector }),
      kube.get("v1", "PersistentVolumeClaim", names.claim, namespace),
      kube.get("v1", "PersistentVolume", names.volume(namespace)),
      kube.get("v1", "Service", names.service, namespace),
      kube.get("v1", "Endpoints", names.service, namespace),
      kube.list("networking.k8s.io/v1", "NetworkPolicy", { namespace }),
      kube.get("policy/v1", "PodDisruptionBudget", names.podDisruptionBudget, namespace),
      kube.list("batch/v1", "Job", { namespace, labelSelector: BACKUP_SELECTOR }),
      kube.list("v1", "Pod", { fieldSelector: "status.phase!=Running,status.phase!=Succeeded" }),
    ]);
  const snapshot: ClusterSnapshot = {
    namespace,
    nodes: nodes as Obj[],
    deployment: deployment as Obj | undefined,
    pods: pods as Obj[],
    troubledPods: troubled as Obj[],
    claim: claim as Obj | undefined,
    volume: volume as Obj | undefined,
    service: service as Obj | undefined,
    endpoints: endpoints as Obj | undefined,
    networkPolicies: policies as Obj[],
    disruptionBudget: pdb as Obj | undefined,
    backupJobs: jobs as Obj[],
  };
  snapshot.podEvents = await latestPodEvents(kube, namespace, snapshot.pods);
  return snapshot;
}

/** The newest warning event per not-ready registry pod (e.g. FailedScheduling, FailedMount). */
async function latestPodEvents(kube: Kube, namespace: string, pods: Obj[]): Promise<Record<string, string>> {
  const notReady = pods.filter(
    (p) =>
      !(p.status?.conditions as Obj[] | undefined)?.some((c) => c.type === "Ready" && c.status === "True"),
  );
  if (notReady.length === 0) return {};
  const events = (await kube.list("v1", "Event", {
    namespace,
    fieldSelector: "involvedObject.kind=Pod",
  })) as Obj[];
  const latest: Record<string, string> = {};
  const sorted = [...events].sort((a, b) =>
    String(a.lastTimestamp ?? a.eventTime ?? "").localeCompare(String(b.lastTimestamp ?? b.eventTime ?? "")),
  );
  for (const event of sorted) {
    if (event.type !== "Warning") continue;
    const pod = event.involvedObject?.name as string | undefined;
    if (pod && notReady.some((p) => p.metadata.name === pod))
      latest[pod] = `${event.reason}: ${event.message}`;
  }
  return latest;
}
