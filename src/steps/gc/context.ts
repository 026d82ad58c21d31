/** What the garbage-collection steps share: the connection, the choices, and what they found. */
import type { V1ConfigMap, V1Deployment, V1Job } from "@kubernetes/client-node";
import type { Kube } from "../../adapters/kube.js";
import type { GcLog } from "../../core/gc/job-log.js";
import type { ReplicaProof } from "../../core/gc/report.js";
import type { JobOutcome } from "../backup/job.js";

export interface GcContext {
  kube: Kube;
  namespace: string;
  dryRun: boolean;
  deleteUntagged: boolean;
  /** The Deployment's replicas: the rollouts wait for all of them. */
  replicas: number;
  /** How long each rollout may take (timeouts.deploy). */
  rolloutTimeoutMs: number;
  /** How long the Job may take (--timeout). */
  jobTimeoutMs: number;
  signal?: AbortSignal;
  /** The live objects read before the steps. */
  configMap: V1ConfigMap;
  deployment: V1Deployment;
  /** The Job this run creates. */
  job?: V1Job;
  outcome?: JobOutcome;
  log?: GcLog;
  /** Set once the registry is (or was found) read-only: the switch back is due. */
  readOnly: boolean;
  /** The fewest ready replicas seen while a rollout ran. */
  minimumReady: number | null;
  proofs: ReplicaProof[];
  healthy: boolean | null;
  warnings: string[];
}
