/**
 * Server-side printing: `kubectl get` asks for meta.k8s.io/v1 Tables and prints their rows. The columns
 * are those of the real server's printers for the served kinds (the wide ones have priority 1).
 */
import type { KubeObject } from "../types.js";
import type { Json } from "./json.js";

interface Column {
  name: string;
  type?: "string" | "integer" | "date";
  format?: string;
  priority?: number;
  cell: (object: Json, now: number) => string | number;
}

/** kubectl's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

function age(timestamp: string | undefined, now: number): string {
  return timestamp ? humanDuration(now - Date.parse(timestamp)) : "<unknown>";
}

const NAME: Column = { name: "Name", format: "name", cell: (o) => o.metadata.name };
const AGE: Column = { name: "Age", cell: (o, now) => age(o.metadata.creationTimestamp, now) };

function podStatus(pod: Json): string {
  if (pod.metadata.deletionTimestamp) return "Terminating";
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? "Pending";
  const inits: Json[] = pod.status?.initContainerStatuses ?? [];
  const initTotal = (pod.spec?.initContainers ?? []).length;
  for (const [i, status] of inits.entries()) {
    if (status.state?.terminated?.exitCode === 0) continue;
    if (status.state?.waiting?.reason && status.state.waiting.reason !== "PodInitializing")
      return `Init:${status.state.waiting.reason}`;
    return `Init:${i}/${initTotal}`;
  }
  for (const status of pod.status?.containerStatuses ?? []) {
    if (status.state?.waiting?.reason) reason = status.state.waiting.reason;
    else if (status.state?.terminated?.reason) reason = status.state.terminated.reason;
  }
  return reason;
}

function accessModes(modes: string[] | undefined): string {
  const short: Record<string, string> = {
    ReadWriteOnce: "RWO",
    ReadOnlyMany: "ROX",
    ReadWriteMany: "RWX",
    ReadWriteOncePod: "RWOP",
  };
  return (modes ?? []).map((m) => short[m] ?? m).join(",");
}

function servicePorts(service: Json): string {
  const ports: Json[] = service.spec?.ports ?? [];
  if (ports.length === 0) return "<none>";
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`).join(",");
}

function externalIP(service: Json): string {
  if (service.spec?.type === "ExternalName") return service.spec.externalName;
  if (service.spec?.type !== "LoadBalancer") return (service.spec?.externalIPs ?? []).join(",") || "<none>";
  const ingress: Json[] = service.status?.loadBalancer?.ingress ?? [];
  return ingress.map((i) => i.hostname ?? i.ip).join(",") || "<pending>";
}

function nodeStatus(node: Json): string {
  const ready = (node.status?.conditions ?? []).find((c: Json) => c.type === "Ready");
  let status = ready?.status === "True" ? "Ready" : ready?.status === "False" ? "NotReady" : "Unknown";
  if (node.spec?.unschedulable) status += ",SchedulingDisabled";
  return status;
}

function jobStatus(job: Json): string {
  const conditions: Json[] = job.status?.conditions ?? [];
  const has = (type: string) => conditions.some((c) => c.type === type && c.status === "True");
  if (has("Complete")) return "Complete";
  if (has("Failed")) return "Failed";
  if (job.spec?.suspend) return "Suspended";
  return "Running";
}

function intOrNA(value: unknown): string {
  return value === undefined ? "N/A" : String(value);
}

const COLUMNS: Record<string, Column[]> = {
  Node: [
    NAME,
    { name: "Status", cell: nodeStatus },
    {
      name: "Roles",
      cell: (n) =>
        Object.keys(n.metadata.labels ?? {})
          .filter((k) => k.startsWith("node-role.kubernetes.io/"))
          .map((k) => k.slice("node-role.kubernetes.io/".length))
          .join(",") || "<none>",
    },
    AGE,
    { name: "Version", cell: (n) => n.status?.nodeInfo?.kubeletVersion ?? "" },
    {
      name: "Internal-IP",
      priority: 1,
      cell: (n) =>
        (n.status?.addresses ?? []).find((a: Json) => a.type === "InternalIP")?.address ?? "<none>",
    },
    {
      name: "External-IP",
      priority: 1,
      cell: (n) =>
        (n.status?.addresses ?? []).find((a: Json) => a.type === "ExternalIP")?.address ?? "<none>",
    },
    { name: "OS-Image", priority: 1, cell: (n) => n.status?.nodeInfo?.osImage ?? "<unknown>" },
    { name: "Kernel-Version", priority: 1, cell: (n) => n.status?.nodeInfo?.kernelVersion ?? "<unknown>" },
    {
      name: "Container-Runtime",
      priority: 1,
      cell: (n) => n.status?.nodeInfo?.containerRuntimeVersion ?? "<unknown>",
    },
  ],
  Pod: [
    NAME,
    {
      name: "Ready",
      cell: (p) =>
        `${(p.status?.containerStatuses ?? []).filter((s: Json) => s.ready).length}/${(p.spec?.containers ?? []).length}`,
    },
    { name: "Status", cell: podStatus },
    {
      name: "Restarts",
      type: "integer",
      cell: (p) =>
        (p.status?.containerStatuses ?? []).reduce((sum: number, s: Json) => sum + (s.restartCount ?? 0), 0),
    },
    AGE,
    { name: "IP", priority: 1, cell: (p) => p.status?.podIP ?? "<none>" },
    { name: "Node", priority: 1, cell: (p) => p.spec?.nodeName ?? "<none>" },
    { name: "Nominated Node", priority: 1, cell: (p) => p.status?.nominatedNodeName ?? "<none>" },
    { name: "Readiness Gates", priority: 1, cell: () => "<none>" },
  ],
  Deployment: [
    NAME,
    { name: "Ready", cell: (d) => `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}` },
    { name: "Up-to-date", type: "integer", cell: (d) => d.status?.updatedReplicas ?? 0 },
    { name: "Available", type: "integer", cell: (d) => d.status?.availableReplicas ?? 0 },
    AGE,
    {
      name: "Containers",
      priority: 1,
      cell: (d) => (d.spec?.template?.spec?.containers ?? []).map((c: Json) => c.name).join(","),
    },
    {
      name: "Images",
      priority: 1,
      cell: (d) => (d.spec?.template?.spec?.containers ?? []).map((c: Json) => c.image).join(","),
    },
  ],
  ReplicaSet: [
    NAME,
    { name: "Desired", type: "integer", cell: (r) => r.spec?.replicas ?? 0 },
    { name: "Current", type: "integer", cell: (r) => r.status?.replicas ?? 0 },
    { name: "Ready", type: "integer", cell: (r) => r.status?.readyReplicas ?? 0 },
    AGE,
  ],
  DaemonSet: [
    NAME,
    { name: "Desired", type: "integer", cell: (d) => d.status?.desiredNumberScheduled ?? 0 },
    { name: "Current", type: "integer", cell: (d) => d.status?.currentNumberScheduled ?? 0 },
    { name: "Ready", type: "integer", cell: (d) => d.status?.numberReady ?? 0 },
    { name: "Up-to-date", type: "integer", cell: (d) => d.status?.updatedNumberScheduled ?? 0 },
    { name: "Available", type: "integer", cell: (d) => d.status?.numberAvailable ?? 0 },
    {
      name: "Node Selector",
      cell: (d) =>
        Object.entries(d.spec?.template?.spec?.nodeSelector ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(",") || "<none>",
    },
    AGE,
  ],
  Service: [
    NAME,
    { name: "Type", cell: (s) => s.spec?.type ?? "ClusterIP" },
    { name: "Cluster-IP", cell: (s) => s.spec?.clusterIP ?? "<none>" },
    { name: "External-IP", cell: externalIP },
    { name: "Port(s)", cell: servicePorts },
    AGE,
  ],
  PodDisruptionBudget: [
    NAME,
    { name: "Min Available", cell: (p) => intOrNA(p.spec?.minAvailable) },
    { name: "Max Unavailable", cell: (p) => intOrNA(p.spec?.maxUnavailable) },
    { name: "Allowed Disruptions", type: "integer", cell: (p) => p.status?.disruptionsAllowed ?? 0 },
    AGE,
  ],
  PersistentVolumeClaim: [
    NAME,
    { name: "Status", cell: (c) => c.status?.phase ?? "Pending" },
    { name: "Volume", cell: (c) => c.spec?.volumeName ?? "" },
    { name: "Capacity", cell: (c) => c.status?.capacity?.storage ?? "" },
    { name: "Access Modes", cell: (c) => accessModes(c.status?.accessModes) },
    { name: "StorageClass", cell: (c) => c.spec?.storageClassName ?? "<unset>" },
    { name: "VolumeAttributesClass", cell: (c) => c.spec?.volumeAttributesClassName ?? "<unset>" },
    AGE,
  ],
  PersistentVolume: [
    NAME,
    { name: "Capacity", cell: (v) => v.spec?.capacity?.storage ?? "" },
    { name: "Access Modes", cell: (v) => accessModes(v.spec?.accessModes) },
    { name: "Reclaim Policy", cell: (v) => v.spec?.persistentVolumeReclaimPolicy ?? "" },
    { name: "Status", cell: (v) => v.status?.phase ?? "" },
    {
      name: "Claim",
      cell: (v) => (v.spec?.claimRef ? `${v.spec.claimRef.namespace}/${v.spec.claimRef.name}` : ""),
    },
    { name: "StorageClass", cell: (v) => v.spec?.storageClassName ?? "" },
    { name: "VolumeAttributesClass", cell: (v) => v.spec?.volumeAttributesClassName ?? "<unset>" },
    { name: "Reason", cell: (v) => v.status?.reason ?? "" },
    AGE,
  ],
  Namespace: [NAME, { name: "Status", cell: (n) => n.status?.phase ?? "" }, AGE],
  Job: [
    NAME,
    { name: "Status", cell: jobStatus },
    { name: "Completions", cell: (j) => `${j.status?.succeeded ?? 0}/${j.spec?.completions ?? 1}` },
    {
      name: "Duration",
      cell: (j, now) =>
        j.status?.startTime
          ? humanDuration(
              (j.status.completionTime ? Date.parse(j.status.completionTime) : now) -
                Date.parse(j.status.startTime),
            )
          : "",
    },
    AGE,
  ],
  CronJob: [
    NAME,
    { name: "Schedule", cell: (c) => c.spec?.schedule ?? "" },
    { name: "Timezone", cell: (c) => c.spec?.timeZone ?? "<none>" },
    { name: "Suspend", cell: (c) => (c.spec?.suspend ? "True" : "False") },
    { name: "Active", type: "integer", cell: (c) => (c.status?.active ?? []).length },
    {
      name: "Last Schedule",
      cell: (c, now) => (c.status?.lastScheduleTime ? age(c.status.lastScheduleTime, now) : "<none>"),
    },
    AGE,
  ],
  Event: [
    {
      name: "Last Seen",
      cell: (e, now) => age(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp, now),
    },
    { name: "Type", cell: (e) => e.type ?? "" },
    { name: "Reason", cell: (e) => e.reason ?? "" },
    {
      name: "Object",
      cell: (e) => `${String(e.involvedObject?.kind ?? "").toLowerCase()}/${e.involvedObject?.name ?? ""}`,
    },
    { name: "Message", cell: (e) => e.message ?? "" },
    { ...NAME, priority: 1 },
  ],
  ConfigMap: [
    NAME,
    {
      name: "Data",
      type: "integer",
      cell: (c) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length,
    },
    AGE,
  ],
  Secret: [
    NAME,
    { name: "Type", cell: (s) => s.type ?? "Opaque" },
    { name: "Data", type: "integer", cell: (s) => Object.keys(s.data ?? {}).length },
    AGE,
  ],
  StorageClass: [
    {
      ...NAME,
      cell: (c) =>
        c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true"
          ? `${c.metadata.name} (default)`
          : c.metadata.name,
    },
    { name: "Provisioner", cell: (c) => c.provisioner ?? "" },
    { name: "ReclaimPolicy", cell: (c) => c.reclaimPolicy ?? "Delete" },
    { name: "VolumeBindingMode", cell: (c) => c.volumeBindingMode ?? "Immediate" },
    { name: "AllowVolumeExpansion", cell: (c) => String(c.allowVolumeExpansion ?? false) },
    AGE,
  ],
  Endpoints: [
    NAME,
    {
      name: "Endpoints",
      cell: (e) => {
        const list: string[] = [];
        for (const subset of e.subsets ?? []) {
          for (const address of subset.addresses ?? []) {
            for (const port of subset.ports ?? [{}])
              list.push(port.port ? `${address.ip}:${port.port}` : address.ip);
          }
        }
        return list.length === 0
          ? "<none>"
          : list.slice(0, 3).join(",") + (list.length > 3 ? ` + ${list.length - 3} more...` : "");
      },
    },
    AGE,
  ],
  VolumeSnapshot: [
    NAME,
    { name: "ReadyToUse", cell: (s) => String(s.status?.readyToUse ?? "") },
    { name: "SourcePVC", cell: (s) => s.spec?.source?.persistentVolumeClaimName ?? "" },
    { name: "RestoreSize", cell: (s) => s.status?.restoreSize ?? "" },
    { name: "SnapshotClass", cell: (s) => s.spec?.volumeSnapshotClassName ?? "" },
    AGE,
  ],
};

export interface TableOptions {
  now: number;
  resourceVersion: string;
  /** includeObject=Object: rows carry the whole object; otherwise PartialObjectMetadata (the default). */
  includeObject: "None" | "Object" | "Metadata";
  /** Continue token of a paged list. */
  continueToken?: string;
}

export function toTable(kind: string, objects: readonly KubeObject[], options: TableOptions): Json {
  const columns = COLUMNS[kind] ?? [NAME, AGE];
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: {
      resourceVersion: options.resourceVersion,
      ...(options.continueToken ? { continue: options.continueToken } : {}),
    },
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type ?? "string",
      format: c.format ?? "",
      description: c.name,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((object) => ({
      cells: columns.map((c) => c.cell(object, options.now)),
      object:
        options.includeObject === "Object"
          ? object
          : options.includeObject === "None"
            ? undefined
            : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata },
    })),
  };
}
