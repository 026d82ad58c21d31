/**
 * The connections a command opens, hands to its steps and closes: the only adapter values commands/ may
 * import (docs/architecture.md). Every call through a connection is made by a step. Each loads its client
 * library only when called, so a command pays for the clients it uses and no others.
 */
import type { BackupBucketTarget } from "../core/backup/bucket-target.js";
import type { BackupSetupClients } from "./aws/backup-setup.js";
import type { AwsClients } from "./aws.js";
import type { Kube, KubeConnectOptions } from "./kube.js";
import type { BackupBucket } from "./s3.js";

/** The typed references (kube-kinds.ts, a table of names that loads nothing) to name what is read. */
export { Kinds, named } from "./kube-kinds.js";

/** A cluster, through a kubeconfig context (kube.ts). */
export async function connectKube(options?: KubeConnectOptions): Promise<Kube> {
  return (await import("./kube.js")).connectKube(options);
}

/** The AWS SDK clients of a region, from the command's environment: STS, EC2, EKS, EFS (aws.ts). */
export async function awsClients(region: string, env: NodeJS.ProcessEnv): Promise<AwsClients> {
  return (await import("./aws.js")).awsClients(region, env);
}

/** S3 and IAM, to make the backup bucket and the backup Job's role (aws/backup-setup.ts). */
export async function backupSetupClients(
  region: string,
  env: NodeJS.ProcessEnv,
): Promise<BackupSetupClients> {
  return (await import("./aws/backup-setup.js")).backupSetupClients(region, env);
}

/** The backup bucket, in S3 or at an S3-compatible endpoint (s3.ts). */
export async function openBackupBucket(target: BackupBucketTarget): Promise<BackupBucket> {
  return (await import("./s3.js")).openBackupBucket(target);
}
