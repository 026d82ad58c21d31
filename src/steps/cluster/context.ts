/**
 * The state the `cluster` steps share while they run: what was asked for, what each step found or made,
 * and what the final report needs.
 */
import type { AwsClients, ClusterInfo } from "../../adapters/aws.js";
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
  warnings: string[];
  /** One line per completed action, for the summary. */
  done: string[];
}
