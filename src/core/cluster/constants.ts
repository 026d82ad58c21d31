/**
 * Names clouddrove gives the things it creates for a cluster, in one place so that `create` finds on a
 * re-run what it made before, `verify` looks for the same things, and `delete` removes exactly them.
 */

/** Tag (AWS) marking everything clouddrove created, and the tag naming the cluster it belongs to. */
export const MANAGED_BY_TAG = "clouddrove.io/managed-by";
export const CLUSTER_TAG = "clouddrove.io/cluster";
export const MANAGED_BY_VALUE = "clouddrove";

/** The worker node groups: one per zone, named after it. */
export function nodegroupName(zone: string): string {
  return `ng-${zone}`;
}

/** The EFS file system's creation token: EFS makes CreateFileSystem idempotent per token. */
export function efsCreationToken(cluster: string): string {
  return `clouddrove-${cluster}`;
}

/** The security group admitting NFS from the nodes to the EFS mount targets. */
export function efsSecurityGroupName(cluster: string): string {
  return `clouddrove-${cluster}-efs`;
}

export const NFS_PORT = 2049;

export const EFS_CSI_DRIVER = "efs.csi.aws.com";
export const EBS_CSI_DRIVER = "ebs.csi.aws.com";

/** Where the addons put their workloads on EKS. */
export const KUBE_SYSTEM = "kube-system";
export const VPC_CNI_DAEMONSET = "aws-node";
export const SNAPSHOT_CONTROLLER_DEPLOYMENT = "snapshot-controller";

/** The node label that says which zone a worker is in. */
export const ZONE_LABEL = "topology.kubernetes.io/zone";

/**
 * The oldest eksctl clouddrove drives: it must know the addons' `configurationValues`, the pod identity
 * agent addon and AmazonLinux2023 node groups. Newer Kubernetes minors need newer eksctl still; eksctl
 * itself refuses those ("invalid version, supported values: ...") and clouddrove turns that into a hint.
 */
export const MIN_EKSCTL_VERSION = "0.190.0";

/** Kubernetes minors older than this are out of EKS support for good; newer ones are checked with AWS. */
export const OLDEST_KUBERNETES_MINOR = "1.28";
