/**
 * What `cluster create` makes for backups, as data: the bucket's default name, its TLS-only policy and
 * public access block, and the IAM role the backup and restore Jobs assume through IRSA (its name, trust
 * policy and permission policy). Pure: steps/cluster/backup-*.ts hand these to the S3 and IAM adapters.
 */
import { createHash } from "node:crypto";

/** The statement clouddrove adds to (never writes over) the bucket's policy, found again by Sid. */
export const TLS_ONLY_SID = "clouddrove-deny-insecure-transport";
/** The inline policy on the backup role that grants the bucket. */
export const ROLE_POLICY_NAME = "clouddrove-backup-bucket";
/** The ServiceAccount of the backup CronJob and the restore Job (templates/backup/). */
export const BACKUP_SERVICE_ACCOUNT = "registry-clouddrove-backup";

/** All four switches on: no ACL and no bucket policy can make an object public. */
export const PUBLIC_ACCESS_BLOCK = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
} as const;

interface PolicyStatement {
  Sid?: string;
  [field: string]: unknown;
}
export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

/** aws, aws-cn or aws-us-gov: ARNs name the partition the region is in. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/**
 * `base` + `tail`, at most `max` characters: when too long, the tail is cut and a hash of the whole name
 * appended, so two long names that share a beginning still differ.
 */
function fitName(base: string, tail: string, max: number): string {
  const whole = `${base}${tail}`;
  if (whole.length <= max) return whole;
  const hash = shortHash(whole);
  const room = max - base.length - hash.length - 1;
  return `${base}${tail.slice(0, Math.max(0, room)).replace(/-+$/, "")}-${hash}`;
}

/**
 * The bucket `cluster create` makes when backup.bucket is not set. S3 names are global across every
 * account, so the name carries the account and region as well as the cluster:
 * clouddrove-backup-<account>-<region>-<cluster>. S3's rules: 3-63 characters of a-z, 0-9 and "-",
 * beginning and ending with a letter or digit (a cluster name may hold capitals and "_", which are
 * lower-cased and replaced).
 */
export function defaultBucketName(account: string, region: string, cluster: string): string {
  const clean = cluster
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
  return fitName(`clouddrove-backup-${account}-${region}-`, clean || "cluster", 63).replace(/-+$/, "");
}

/**
 * The role the backup Job assumes. Role names are per account, not per region, so the region is in the
 * name; IAM allows 64 characters of [A-Za-z0-9+=,.@_-].
 */
export function backupRoleName(cluster: string, region: string): string {
  return fitName(`clouddrove-backup-${region}-`, cluster.replace(/[^A-Za-z0-9+=,.@_-]/g, "-"), 64);
}

export function roleArn(account: string, region: string, name: string): string {
  return `arn:${partitionOf(region)}:iam::${account}:role/${name}`;
}

/** The IAM OIDC provider eksctl (iam.withOIDC) registers for the cluster's issuer URL. */
export function oidcProviderArn(account: string, region: string, issuerUrl: string): string {
  return `arn:${partitionOf(region)}:iam::${account}:oidc-provider/${issuerHost(issuerUrl)}`;
}

function issuerHost(issuerUrl: string): string {
  return issuerUrl.replace(/^https:\/\//, "");
}

/**
 * IRSA's trust: only a token the cluster's OIDC issuer signed for the backup ServiceAccount in the
 * registry's namespace, with STS as its audience, can assume the role.
 */
export function irsaTrustPolicy(input: {
  account: string;
  region: string;
  issuerUrl: string;
  namespace: string;
  serviceAccount?: string;
}): PolicyDocument {
  const host = issuerHost(input.issuerUrl);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: oidcProviderArn(input.account, input.region, input.issuerUrl) },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${host}:sub`]: `system:serviceaccount:${input.namespace}:${input.serviceAccount ?? BACKUP_SERVICE_ACCOUNT}`,
            [`${host}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  };
}

/**
 * What the backup and restore scripts do, on this bucket and prefix only: list the prefix, read, write
 * and delete objects under it (retention and the blob sweep delete), and the multipart calls rclone
 * makes for large blobs (PutObject covers create, upload part and complete; abort and list parts are
 * their own actions). Nothing on the bucket itself: its lifecycle rule is written by the CLI's identity.
 */
export function backupRolePolicy(input: { bucket: string; prefix: string; region: string }): PolicyDocument {
  const bucketArn = `arn:${partitionOf(input.region)}:s3:::${input.bucket}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ListThePrefix",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [bucketArn],
        Condition: { StringLike: { "s3:prefix": [`${input.prefix}*`] } },
      },
      {
        Sid: "ObjectsUnderThePrefix",
        Effect: "Allow",
        Action: [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts",
        ],
        Resource: [`${bucketArn}/${input.prefix}*`],
      },
    ],
  };
}

/** The statement that refuses every request to the bucket made without TLS. */
export function tlsOnlyStatement(bucket: string, region: string): PolicyStatement {
  const bucketArn = `arn:${partitionOf(region)}:s3:::${bucket}`;
  return {
    Sid: TLS_ONLY_SID,
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/**
 * The bucket's policy with our TLS-only statement added or replaced (by Sid); every other statement is
 * kept. PutBucketPolicy replaces the whole document, so an adopted bucket's own statements must survive.
 * Undefined when the policy already holds exactly our statement (nothing to write).
 */
export function mergeBucketPolicy(
  existing: string | undefined,
  bucket: string,
  region: string,
): PolicyDocument | undefined {
  const ours = tlsOnlyStatement(bucket, region);
  const parsed: PolicyDocument = existing
    ? (JSON.parse(existing) as PolicyDocument)
    : { Version: "2012-10-17", Statement: [] };
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
  const current = statements.find((s) => s.Sid === TLS_ONLY_SID);
  if (current && JSON.stringify(current) === JSON.stringify(ours)) return undefined;
  return {
    ...parsed,
    Version: parsed.Version ?? "2012-10-17",
    Statement: [...statements.filter((s) => s.Sid !== TLS_ONLY_SID), ours],
  };
}

/** What `cluster create` does for backups, decided from the settings and the account. */
export type BackupSetupPlan =
  | { make: false; reason: string }
  | {
      make: true;
      bucket: string;
      /** The bucket was named by backup.bucket (else the default name). */
      named: boolean;
      region: string;
      prefix: string;
      namespace: string;
      account: string;
      /** The IRSA role to make or bring in line; absent when the job gets its access another way. */
      role?: { name: string; arn: string };
      /** Why no role is made, when that needs saying (pod-identity). */
      roleNote?: string;
    };

interface SetupInput {
  namespace: string;
  cluster: { name: string; region?: string };
  backup: {
    setup: "create" | "manual";
    bucket?: string;
    prefix: string;
    region?: string;
    endpoint?: string;
    credentials: "irsa" | "pod-identity" | "secret";
    roleArn?: string;
  };
}

/**
 * The bucket in the bucket's region (backup.region, else the cluster's), and the role the Job assumes
 * when it reaches S3 through IRSA. A role ARN the user gave for another role wins: it is used, not made.
 */
export function backupSetupPlan(config: SetupInput, account: string): BackupSetupPlan {
  const { backup } = config;
  if (backup.setup === "manual") return { make: false, reason: "backup.setup is manual" };
  if (backup.endpoint) {
    return {
      make: false,
      reason: `backup.endpoint names an S3-compatible server (${backup.endpoint}): its bucket is made there`,
    };
  }
  const region = backup.region ?? config.cluster.region;
  if (!region) return { make: false, reason: "no region is known for the bucket" };
  const bucket = backup.bucket ?? defaultBucketName(account, region, config.cluster.name);
  const base = {
    make: true as const,
    bucket,
    named: backup.bucket !== undefined,
    region,
    prefix: backup.prefix,
    namespace: config.namespace,
    account,
  };
  if (backup.credentials === "pod-identity") {
    return {
      ...base,
      roleNote: `backup.credentials is pod-identity: no role is made; associate one with ServiceAccount ${config.namespace}/${BACKUP_SERVICE_ACCOUNT} (eksctl create podidentityassociation)`,
    };
  }
  if (backup.credentials === "secret") return base;
  const roleRegion = config.cluster.region ?? region;
  const name = backupRoleName(config.cluster.name, roleRegion);
  const arn = roleArn(account, roleRegion, name);
  if (backup.roleArn && backup.roleArn !== arn) return base;
  return { ...base, role: { name, arn } };
}

/** The lines `cluster create` shows before it starts (and prints with --dry-run). */
export function backupSetupLines(plan: BackupSetupPlan, configFile: string): string[] {
  if (!plan.make) return [`  - backups: nothing is made (${plan.reason})`];
  return [
    `  - S3 bucket ${plan.bucket} in ${plan.region} for backups (${plan.named ? "backup.bucket" : "a name from the account, region and cluster; --backup-bucket chooses another"}): default encryption, public access blocked, TLS-only policy, unfinished uploads aborted; kept by cluster delete`,
    ...(plan.role
      ? [
          `  - IAM role ${plan.role.name} for the backup job (IRSA: ServiceAccount ${plan.namespace}/${BACKUP_SERVICE_ACCOUNT}), allowed only ${plan.prefix}* in the bucket`,
        ]
      : []),
    ...(plan.roleNote ? [`  - ${plan.roleNote}`] : []),
    `  - record backup.bucket${plan.role ? " and backup.roleArn" : ""} in ${configFile}`,
  ];
}

/**
 * What `cluster delete` says of the backups: the bucket is kept (the backups outlive the cluster, and a
 * new cluster restores from them), with the commands that delete it, and its role, by hand.
 */
export function keptBackupLines(bucket: string | undefined, role: string | undefined): string[] {
  if (!bucket) return [];
  const lines = [
    `keep S3 bucket ${bucket} and its backups (a new cluster restores from them); to delete it by hand: aws s3 rb s3://${bucket} --force`,
  ];
  const name = role?.split(":role/")[1];
  if (name) {
    lines.push(
      `keep IAM role ${name} (it only works with this cluster's OIDC provider); to delete it by hand: aws iam delete-role-policy --role-name ${name} --policy-name ${ROLE_POLICY_NAME} && aws iam delete-role --role-name ${name}`,
    );
  }
  return lines;
}
