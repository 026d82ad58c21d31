/**
 * What `cluster create` and `cluster delete` are about to do, as lines a person reads before confirming
 * (and what --dry-run prints). Pure.
 */
import type { ClusterValues } from "./cluster-config.js";
import { efsSecurityGroupName } from "./constants.js";

/** The command as a person would type it (for messages and dry runs). */
export function eksctlCommandLine(args: readonly string[]): string {
  return ["eksctl", ...args]
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))
    .join(" ");
}

export interface CreatePlanInput {
  values: ClusterValues;
  /** The cluster exists: eksctl reconciles instead of creating. */
  exists: boolean;
  eksctlCommands: string[];
  configFile: string;
  account?: string;
  /** What is made for backups (core/backup/provision.ts backupSetupLines). */
  backupLines?: string[];
}

export function createPlan(input: CreatePlanInput): string[] {
  const { values } = input;
  const lines = [
    input.exists
      ? `Reconcile the existing EKS cluster ${values.name} in ${values.region}${input.account ? ` (account ${input.account})` : ""}:`
      : `Create EKS cluster ${values.name} (Kubernetes ${values.kubernetesVersion}) in ${values.region}${input.account ? ` (account ${input.account})` : ""}:`,
    `  - control plane subnets and one NAT gateway in each of ${values.zones.join(", ")}`,
    `  - ${values.zones.length} managed node groups, one ${values.instanceType} node each, pinned to its zone`,
    "  - addons: vpc-cni (network policy on), aws-efs-csi-driver, aws-ebs-csi-driver, snapshot-controller, eks-pod-identity-agent; IAM OIDC",
    ...input.eksctlCommands.map((c) => `  - run: ${c}`),
    `  - an encrypted EFS file system (found again by tag), security group ${efsSecurityGroupName(values.name)} admitting NFS from the nodes, a mount target in each zone`,
    `  - record the EFS id in ${input.configFile}`,
    ...(input.backupLines ?? []),
    "  - apply StorageClass clouddrove-efs and VolumeSnapshotClass clouddrove-ebs",
    "  - verify the result (cluster verify)",
  ];
  if (!input.exists) lines.push("eksctl takes 15-30 minutes; the cluster costs money while it exists.");
  return lines;
}

export interface DeletePlanInput {
  name: string;
  region: string;
  clusterExists: boolean;
  loadBalancers: Array<{ namespace: string; name: string }>;
  fileSystemId?: string;
  mountTargets: Array<{ id: string; zone: string }>;
  securityGroupId?: string;
  deleteData: boolean;
  eksctlCommand: string;
  /** What is kept for the backups (core/backup/provision.ts keptBackupLines). */
  keptBackup?: string[];
}

export function deletePlan(input: DeletePlanInput): string[] {
  const lines = [`Delete EKS cluster ${input.name} in ${input.region}:`];
  if (!input.clusterExists) lines.push("  - EKS has no cluster of that name (only leftovers are removed)");
  for (const s of input.loadBalancers) lines.push(`  - delete LoadBalancer Service ${s.namespace}/${s.name}`);
  for (const m of input.mountTargets) lines.push(`  - delete EFS mount target ${m.id} (${m.zone})`);
  if (input.securityGroupId) lines.push(`  - delete security group ${input.securityGroupId}`);
  if (input.fileSystemId) {
    lines.push(
      input.deleteData
        ? `  - DELETE EFS file system ${input.fileSystemId} and all registry data on it`
        : `  - keep EFS file system ${input.fileSystemId} (the registry's data; --delete-data deletes it)`,
    );
  }
  for (const line of input.keptBackup ?? []) lines.push(`  - ${line}`);
  if (input.clusterExists) lines.push(`  - run: ${input.eksctlCommand}`);
  return lines;
}
