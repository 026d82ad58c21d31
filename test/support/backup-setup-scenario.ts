/**
 * `cluster create`'s backup steps (steps/cluster/backup.ts) as one scenario, run against any endpoint
 * that serves S3 and IAM (moto, the sandbox's): the bucket made with encryption, public access blocked, a
 * TLS-only policy and the lifecycle rule; a second run keeps it and the statements of others in its
 * policy; the IRSA role's trust and permission documents; the settings recorded.
 */

import { GetRoleCommand, GetRolePolicyCommand } from "@aws-sdk/client-iam";
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  PutBucketPolicyCommand,
} from "@aws-sdk/client-s3";
import { Listr } from "listr2";
import { expect } from "vitest";
import { backupSetupClients } from "../../src/adapters/aws/backup-setup.js";
import type { AwsClients } from "../../src/adapters/aws.js";
import { describeCluster } from "../../src/adapters/aws.js";
import type { Config } from "../../src/config/schema.js";
import { retentionRule } from "../../src/core/backup/lifecycle.js";
import { backupSetupPlan, defaultBucketName } from "../../src/core/backup/provision.js";
import { backupBucketTask, backupRoleTask } from "../../src/steps/cluster/backup.js";
import type { ClusterContext } from "../../src/steps/cluster/context.js";
import { recordedSettings } from "../../src/steps/cluster/record.js";

export interface BackupSetupScenario {
  clients: AwsClients;
  env: NodeJS.ProcessEnv;
  account: string;
  cluster: string;
  region: string;
  config: Config;
}

/** The bucket and role steps, as cluster create runs them, on a fresh context. */
export async function runBackupSteps(scenario: BackupSetupScenario, config = scenario.config) {
  const plan = backupSetupPlan(
    { ...config, cluster: { name: scenario.cluster, region: scenario.region } },
    scenario.account,
  );
  const context: ClusterContext = {
    values: {
      name: scenario.cluster,
      region: scenario.region,
      zones: [],
      kubernetesVersion: "1.33",
      instanceType: "m6i.large",
    },
    clusterConfig: "",
    clients: scenario.clients,
    mountTargetsCreated: [],
    warnings: [],
    done: [],
    backup: {
      plan,
      lifecycleRule: retentionRule(config),
      ...(plan.make ? { clients: backupSetupClients(plan.region, scenario.env) } : {}),
    },
  };
  try {
    await new Listr([backupBucketTask(), backupRoleTask()], {
      ctx: context,
      renderer: "silent",
      exitOnError: true,
    }).run();
  } finally {
    context.backup?.clients?.close();
  }
  return context;
}

export async function backupSetupScenario(scenario: BackupSetupScenario): Promise<void> {
  const { account, cluster, region } = scenario;
  const bucket = defaultBucketName(account, region, cluster);
  const first = await runBackupSteps(scenario);
  expect(first.backup?.bucket).toBe(bucket);
  expect(first.backup?.bucketOrigin).toBe("created");
  const { s3, iam, close } = backupSetupClients(region, scenario.env);
  try {
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    expect(
      encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
        ?.SSEAlgorithm,
    ).toBe("AES256");
    const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
    expect(block.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    const policy = JSON.parse(
      (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy as string,
    );
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Sid: "clouddrove-deny-insecure-transport",
        Effect: "Deny",
        Action: "s3:*",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    ]);
    const lifecycle = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    expect(lifecycle.Rules).toEqual([
      expect.objectContaining({
        ID: "clouddrove-backup-retention",
        Status: "Enabled",
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
      }),
    ]);

    // The role: IRSA's trust in the cluster's issuer for the backup ServiceAccount, the bucket's prefix only.
    const issuer = (await describeCluster(scenario.clients.eks, cluster))?.oidcIssuer as string;
    const host = issuer.replace("https://", "");
    const roleName = first.backup?.roleArn?.split(":role/")[1] as string;
    expect(first.backup?.roleArn).toBe(`arn:aws:iam::${account}:role/clouddrove-backup-${region}-${cluster}`);
    const role = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    const trust = JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument as string));
    expect(trust.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${host}` },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${host}:sub`]: `system:serviceaccount:${scenario.config.namespace}:registry-clouddrove-backup`,
            [`${host}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ]);
    const permissions = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: "clouddrove-backup-bucket" }),
    );
    const granted = JSON.parse(decodeURIComponent(permissions.PolicyDocument as string));
    const prefix = scenario.config.backup.prefix;
    expect(granted.Statement).toEqual([
      expect.objectContaining({
        Action: ["s3:ListBucket"],
        Resource: [`arn:aws:s3:::${bucket}`],
        Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } },
      }),
      expect.objectContaining({
        Action: [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts",
        ],
        Resource: [`arn:aws:s3:::${bucket}/${prefix}*`],
      }),
    ]);
    expect(recordedSettings(first)).toEqual({
      "backup.bucket": bucket,
      "backup.roleArn": first.backup?.roleArn,
    });

    // A statement of someone else's in the bucket's policy survives the second run, which keeps the
    // bucket (BucketAlreadyOwnedByYou) and the role.
    const theirs = {
      Sid: "AuditorsRead",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: "s3:GetObject",
      Resource: `arn:aws:s3:::${bucket}/*`,
    };
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({ Version: "2012-10-17", Statement: [...policy.Statement, theirs] }),
      }),
    );
    const second = await runBackupSteps(scenario);
    expect(second.backup?.bucketOrigin).toBe("owned");
    expect(second.backup?.roleArn).toBe(first.backup?.roleArn);
    expect(second.done).toEqual([`protected S3 bucket ${bucket}`, `updated IAM role ${roleName}`]);
    const after = JSON.parse(
      (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy as string,
    );
    expect(after.Statement.map((s: { Sid: string }) => s.Sid).sort()).toEqual([
      "AuditorsRead",
      "clouddrove-deny-insecure-transport",
    ]);
  } finally {
    close();
  }
}
