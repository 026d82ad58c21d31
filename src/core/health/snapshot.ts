/**
 * What `status` and the upgrade health gates look at: one read of the cluster's relevant objects, as plain
 * JSON. The adapters fill it; everything in core/health reasons over it without I/O.
 */

import type {
  V1Deployment,
  V1Endpoints,
  V1Job,
  V1NetworkPolicy,
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodDisruptionBudget,
  V1Service,
} from "@kubernetes/client-node";

export interface ClusterSnapshot {
  namespace: string;
  nodes: V1Node[];
  deployment?: V1Deployment;
  /** The registry's pods (by the Deployment's selector). */
  pods: V1Pod[];
  /** Every pod in the cluster that is not Running/Succeeded, for "no Pending/CrashLoop pods" checks. */
  troubledPods?: V1Pod[];
  claim?: V1PersistentVolumeClaim;
  volume?: V1PersistentVolume;
  service?: V1Service;
  endpoints?: V1Endpoints;
  networkPolicies: V1NetworkPolicy[];
  disruptionBudget?: V1PodDisruptionBudget;
  /** Jobs created by the backup CronJob (or `backup now`), any order. */
  backupJobs?: V1Job[];
  /** Latest FailedScheduling-style events per pod name, for explaining Pending pods. */
  podEvents?: Record<string, string>;
  /** `status` only: each ready replica's answer to /v2/ with the pull Secret's credentials. */
  replicaLogins?: ReplicaLogins;
}

export interface ReplicaLogins {
  /** The user the pull Secret names. */
  username?: string;
  /** Why nothing could be tried (no credentials to try). */
  missing?: string;
  /** HTTP status per ready replica; null with `error` when no answer came. */
  replicas: Array<{ pod: string; status: number | null; error?: string }>;
}

export interface HealthExpectations {
  replicas: number;
  image?: string;
  /** kubelet version prefix every node must run, e.g. "v1.33". */
  kubeletVersion?: string;
  networkPolicies: string[];
  /** The Service must have a load balancer address (false while one is still being provisioned is a problem). */
  requireLoadBalancer: boolean;
}
