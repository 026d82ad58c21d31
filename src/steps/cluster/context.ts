/**
 * The state the `cluster` steps share while they run: what was asked for, what each step found or made,
 * and what the final report needs.
 */

import type { BackupSetupClients } from "../../adapters/aws/backup-setup.js";
import type { AwsClients, ClusterInfo } from "../../adapters/aws.js";
import type { LifecycleRule } from "../../core/backup/lifecycle.js";
import type { BackupSetupPlan } from "../../core/backup/provision.js";
import type { ClusterValues } from "../../core/cluster/cluster-config.js";
import type { VerifyReport } from "../../core/cluster/verify.js";

export interface ClusterContext {
  values: ClusterValues;
  /** The rendered ClusterConfig (YAML text). */
  clusterConfig: string;
  /** The cluster as EKS described it before this run; set means create reconciles. */
  existing?: ClusterInfo;
  /** The cluster as EKS describes it after eksctl ran (its endpoint is what kubectl must reach). */
  described?: ClusterInfo;
  /** The AWS clients (EKS, EC2, EFS, STS), configured from the command's environment. */
  clients?: AwsClients;
  fileSystemId?: string;
  createdFileSystem?: boolean;
  mountTargetsCreated: string[];
  /** The kubeconfig context the cluster is reached through after eksctl ran. */
  kubeContext?: string;
  /** The config file the EFS id was recorded in. */
  recordedIn?: string;
  report?: VerifyReport;
  /** What is made for backups (steps/cluster/backup.ts): the plan, its clients, and what came of it. */
  backup?: {
    plan: BackupSetupPlan;
    /** The bucket's lifecycle rule for the prefix (core/backup/lifecycle.ts retentionRule). */
    lifecycleRule: LifecycleRule;
    clients?: BackupSetupClients;
    /** The bucket, once it exists and is protected. */
    bucket?: string;
    bucketOrigin?: "created" | "owned";
    encryption?: string;
    /** The role's ARN, once it exists with its trust and permission policies. */
    roleArn?: string;
  };
  warnings: string[];
  /** One line per completed action, for the summary. */
  done: string[];
}
