/**
 * The resource types the sandbox serves, as discovery lists them. One table drives discovery, routing,
 * the OpenAPI documents kubectl reads, and the store's per-kind bookkeeping.
 */
import { ApiError, type ResourceType } from "./types.js";

export interface ServedType extends ResourceType {
  singular: string;
  listKind: string;
  /** Does this kind have a .spec whose changes bump metadata.generation (and a .status kept apart)? */
  hasStatus: boolean;
  categories?: string[];
  /**
   * Top-level fields a real server knows for this kind (besides apiVersion, kind, metadata). Used by
   * fieldValidation=Strict; spec's known fields are checked one level deeper when listed.
   */
  fields: string[];
  specFields?: string[];
}

const POD_SPEC_FIELDS = [
  "activeDeadlineSeconds",
  "affinity",
  "automountServiceAccountToken",
  "containers",
  "dnsConfig",
  "dnsPolicy",
  "enableServiceLinks",
  "ephemeralContainers",
  "hostAliases",
  "hostIPC",
  "hostNetwork",
  "hostPID",
  "hostUsers",
  "hostname",
  "imagePullSecrets",
  "initContainers",
  "nodeName",
  "nodeSelector",
  "os",
  "overhead",
  "preemptionPolicy",
  "priority",
  "priorityClassName",
  "readinessGates",
  "resourceClaims",
  "resources",
  "restartPolicy",
  "runtimeClassName",
  "schedulerName",
  "schedulingGates",
  "securityContext",
  "serviceAccount",
  "serviceAccountName",
  "setHostnameAsFQDN",
  "shareProcessNamespace",
  "subdomain",
  "terminationGracePeriodSeconds",
  "tolerations",
  "topologySpreadConstraints",
  "volumes",
];

function served(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ServedType> = {},
): ServedType {
  const hasStatus = extra.subresources?.includes("status") ?? false;
  return {
    group,
    version,
    resource,
    kind,
    namespaced,
    singular: kind.toLowerCase(),
    listKind: `${kind}List`,
    hasStatus,
    fields: hasStatus ? ["spec", "status"] : [],
    ...extra,
  };
}

export const SERVED_TYPES: readonly ServedType[] = [
  served("", "v1", "namespaces", "Namespace", false, {
    shortNames: ["ns"],
    subresources: ["status", "finalize"],
  }),
  served("", "v1", "nodes", "Node", false, {
    shortNames: ["no"],
    subresources: ["status"],
    specFields: [
      "configSource",
      "externalID",
      "podCIDR",
      "podCIDRs",
      "providerID",
      "taints",
      "unschedulable",
    ],
  }),
  served("", "v1", "pods", "Pod", true, {
    shortNames: ["po"],
    categories: ["all"],
    subresources: ["status", "eviction", "log", "binding"],
    specFields: POD_SPEC_FIELDS,
  }),
  served("", "v1", "events", "Event", true, {
    shortNames: ["ev"],
    fields: [
      "action",
      "count",
      "eventTime",
      "firstTimestamp",
      "involvedObject",
      "lastTimestamp",
      "message",
      "reason",
      "related",
      "reportingComponent",
      "reportingInstance",
      "series",
      "source",
      "type",
    ],
  }),
  served("", "v1", "configmaps", "ConfigMap", true, {
    shortNames: ["cm"],
    fields: ["binaryData", "data", "immutable"],
  }),
  served("", "v1", "secrets", "Secret", true, { fields: ["data", "immutable", "stringData", "type"] }),
  served("", "v1", "services", "Service", true, {
    shortNames: ["svc"],
    categories: ["all"],
    subresources: ["status"],
    specFields: [
      "allocateLoadBalancerNodePorts",
      "clusterIP",
      "clusterIPs",
      "externalIPs",
      "externalName",
      "externalTrafficPolicy",
      "healthCheckNodePort",
      "internalTrafficPolicy",
      "ipFamilies",
      "ipFamilyPolicy",
      "loadBalancerClass",
      "loadBalancerIP",
      "loadBalancerSourceRanges",
      "ports",
      "publishNotReadyAddresses",
      "selector",
      "sessionAffinity",
      "sessionAffinityConfig",
      "trafficDistribution",
      "type",
    ],
  }),
  served("", "v1", "endpoints", "Endpoints", true, { shortNames: ["ep"], fields: ["subsets"] }),
  served("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true, {
    fields: ["addressType", "endpoints", "ports"],
  }),
  served("", "v1", "serviceaccounts", "ServiceAccount", true, {
    shortNames: ["sa"],
    fields: ["automountServiceAccountToken", "imagePullSecrets", "secrets"],
  }),
  served("", "v1", "persistentvolumes", "PersistentVolume", false, {
    shortNames: ["pv"],
    subresources: ["status"],
  }),
  served("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, {
    shortNames: ["pvc"],
    subresources: ["status"],
    specFields: [
      "accessModes",
      "dataSource",
      "dataSourceRef",
      "resources",
      "selector",
      "storageClassName",
      "volumeAttributesClassName",
      "volumeMode",
      "volumeName",
    ],
  }),
  served("apps", "v1", "deployments", "Deployment", true, {
    shortNames: ["deploy"],
    categories: ["all"],
    subresources: ["status", "scale"],
    specFields: [
      "minReadySeconds",
      "paused",
      "progressDeadlineSeconds",
      "replicas",
      "revisionHistoryLimit",
      "selector",
      "strategy",
      "template",
    ],
  }),
  served("apps", "v1", "replicasets", "ReplicaSet", true, {
    shortNames: ["rs"],
    categories: ["all"],
    subresources: ["status", "scale"],
    specFields: ["minReadySeconds", "replicas", "selector", "template"],
  }),
  served("apps", "v1", "daemonsets", "DaemonSet", true, {
    shortNames: ["ds"],
    categories: ["all"],
    subresources: ["status"],
    specFields: ["minReadySeconds", "revisionHistoryLimit", "selector", "template", "updateStrategy"],
  }),
  served("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, {
    shortNames: ["pdb"],
    subresources: ["status"],
    specFields: ["maxUnavailable", "minAvailable", "selector", "unhealthyPodEvictionPolicy"],
  }),
  served("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, {
    shortNames: ["netpol"],
    fields: ["spec"],
    specFields: ["egress", "ingress", "podSelector", "policyTypes"],
  }),
  served("batch", "v1", "jobs", "Job", true, {
    categories: ["all"],
    subresources: ["status"],
    specFields: [
      "activeDeadlineSeconds",
      "backoffLimit",
      "backoffLimitPerIndex",
      "completionMode",
      "completions",
      "managedBy",
      "manualSelector",
      "maxFailedIndexes",
      "parallelism",
      "podFailurePolicy",
      "podReplacementPolicy",
      "selector",
      "successPolicy",
      "suspend",
      "template",
      "ttlSecondsAfterFinished",
    ],
  }),
  served("batch", "v1", "cronjobs", "CronJob", true, {
    shortNames: ["cj"],
    categories: ["all"],
    subresources: ["status"],
    specFields: [
      "concurrencyPolicy",
      "failedJobsHistoryLimit",
      "jobTemplate",
      "schedule",
      "startingDeadlineSeconds",
      "successfulJobsHistoryLimit",
      "suspend",
      "timeZone",
    ],
  }),
  // Leases: the lock clouddrove's changing commands take (replace with resourceVersion decides who wins).
  served("coordination.k8s.io", "v1", "leases", "Lease", true, {
    fields: ["spec"],
    specFields: [
      "acquireTime",
      "holderIdentity",
      "leaseDurationSeconds",
      "leaseTransitions",
      "preferredHolder",
      "renewTime",
      "strategy",
    ],
  }),
  served("storage.k8s.io", "v1", "storageclasses", "StorageClass", false, {
    shortNames: ["sc"],
    fields: [
      "allowVolumeExpansion",
      "allowedTopologies",
      "mountOptions",
      "parameters",
      "provisioner",
      "reclaimPolicy",
      "volumeBindingMode",
    ],
  }),
  served("storage.k8s.io", "v1", "csidrivers", "CSIDriver", false, { fields: ["spec"] }),
  served("snapshot.storage.k8s.io", "v1", "volumesnapshots", "VolumeSnapshot", true, {
    shortNames: ["vs"],
    subresources: ["status"],
    specFields: ["source", "volumeSnapshotClassName"],
  }),
  served("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", "VolumeSnapshotClass", false, {
    shortNames: ["vsclass", "vsclasses"],
    fields: ["deletionPolicy", "driver", "parameters"],
  }),
];

/** "apps/v1", or "v1" for the core group. */
export function apiVersionOf(type: ResourceType): string {
  return type.group === "" ? type.version : `${type.group}/${type.version}`;
}

/** "deployments.apps", or "pods" for the core group: how real error messages name a resource. */
export function qualifiedResource(type: ResourceType): string {
  return type.group === "" ? type.resource : `${type.resource}.${type.group}`;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

const byKind = new Map(SERVED_TYPES.map((type) => [type.kind, type]));

/** The served type for a kind (and apiVersion, when given); 404 NotFound like a server without it. */
export function servedTypeOf(kind: string, apiVersion?: string): ServedType {
  const type = byKind.get(kind);
  if (type === undefined || (apiVersion !== undefined && apiVersionOf(type) !== apiVersion)) {
    throw new ApiError(
      404,
      "NotFound",
      `the server could not find the requested resource (no kind "${kind}" is registered for version "${apiVersion ?? ""}")`,
    );
  }
  return type;
}

export function servedTypeByResource(
  group: string,
  version: string,
  resource: string,
): ServedType | undefined {
  return SERVED_TYPES.find((t) => t.group === group && t.version === version && t.resource === resource);
}

/** Every group (besides the core one) with its versions, in the order discovery lists them. */
export function servedGroups(): Array<{ group: string; versions: string[] }> {
  const groups = new Map<string, Set<string>>();
  for (const type of SERVED_TYPES) {
    if (type.group === "") continue;
    const versions = groups.get(type.group) ?? new Set<string>();
    versions.add(type.version);
    groups.set(type.group, versions);
  }
  return [...groups].map(([group, versions]) => ({ group, versions: [...versions] }));
}
