/**
 * The backup side of `cluster create`: the bucket (made before eksctl, so that a name taken by another
 * account stops the run before anything is created) and the IRSA role of the backup Job (made after
 * eksctl, once the cluster's OIDC issuer exists). The plan is core/backup/provision.ts's.
 */
import type { ListrTask } from "listr2";
import { ensureRole, oidcProviderExists } from "../../adapters/aws/iam-role.js";
import { createBucket, protectBucket } from "../../adapters/aws/s3-bucket.js";
import { describeCluster } from "../../adapters/aws.js";
import {
  BACKUP_SERVICE_ACCOUNT,
  backupRolePolicy,
  irsaTrustPolicy,
  oidcProviderArn,
  ROLE_POLICY_NAME,
} from "../../core/backup/provision.js";
import { OperationError } from "../../errors.js";
import type { ClusterContext } from "./context.js";

function setup(context: ClusterContext) {
  const backup = context.backup;
  if (!backup?.clients || !backup.plan.make) throw new OperationError("The backup setup step has no plan");
  return { backup, plan: backup.plan, clients: backup.clients };
}

export function backupBucketTask(): ListrTask<ClusterContext> {
  return {
    title: "Backup bucket",
    skip: (context) => (context.backup?.plan.make ? false : "backups: nothing to make"),
    task: async (context, task) => {
      const { backup, plan, clients } = setup(context);
      task.output = `CreateBucket ${plan.bucket} in ${plan.region}`;
      const origin = await createBucket(clients.s3, plan.bucket, plan.region);
      const protection = await protectBucket(clients.s3, {
        bucket: plan.bucket,
        region: plan.region,
        lifecycleRule: backup.lifecycleRule,
      });
      backup.bucket = plan.bucket;
      backup.bucketOrigin = origin;
      backup.encryption = protection.encryption;
      const what = origin === "created" ? "created" : "already this account's, kept";
      context.done.push(`${origin === "created" ? "created" : "protected"} S3 bucket ${plan.bucket}`);
      task.title = `Backup bucket ${plan.bucket} (${what}): encryption ${protection.encryption}, public access blocked, TLS only`;
    },
  };
}

export function backupRoleTask(): ListrTask<ClusterContext> {
  return {
    title: "IAM role of the backup job",
    skip: (context) =>
      context.backup?.plan.make && context.backup.plan.role && context.backup.bucket
        ? false
        : "no role to make",
    task: async (context, task) => {
      const { backup, plan, clients } = setup(context);
      const role = plan.role as { name: string; arn: string };
      if (!context.clients) throw new OperationError("The backup role step has no AWS clients");
      const cluster = await describeCluster(context.clients.eks, context.values.name);
      const issuer = cluster?.oidcIssuer;
      const fix = `eksctl utils associate-iam-oidc-provider --cluster ${context.values.name} --region ${context.values.region} --approve`;
      if (!issuer) {
        throw new OperationError(`EKS reports no OIDC issuer for cluster ${context.values.name}`, {
          hint: `IRSA needs one; run \`${fix}\`, then cluster create again.`,
        });
      }
      const provider = oidcProviderArn(plan.account, context.values.region, issuer);
      if (!(await oidcProviderExists(clients.iam, provider))) {
        throw new OperationError(
          `IAM has no OIDC provider for cluster ${context.values.name} (${provider})`,
          {
            hint: `eksctl makes it (iam.withOIDC); for a cluster made otherwise run \`${fix}\`, then cluster create again.`,
          },
        );
      }
      const made = await ensureRole(clients.iam, {
        name: role.name,
        description: `clouddrove backups of cluster ${context.values.name}: ${plan.bucket}/${plan.prefix}`,
        trust: irsaTrustPolicy({
          account: plan.account,
          region: context.values.region,
          issuerUrl: issuer,
          namespace: plan.namespace,
        }),
        policyName: ROLE_POLICY_NAME,
        policy: backupRolePolicy({ bucket: plan.bucket, prefix: plan.prefix, region: plan.region }),
        tags: { "clouddrove.io/managed-by": "clouddrove", "clouddrove.io/cluster": context.values.name },
      });
      backup.roleArn = made.arn;
      context.done.push(`${made.created ? "created" : "updated"} IAM role ${role.name}`);
      task.title = `IAM role ${role.name} (IRSA for ${plan.namespace}/${BACKUP_SERVICE_ACCOUNT}): read and write ${plan.bucket}/${plan.prefix}* only`;
    },
  };
}
