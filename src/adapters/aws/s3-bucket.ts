/**
 * Making the backup bucket (CreateBucket) and protecting it: default encryption, the public access block,
 * the TLS-only policy statement and the lifecycle rule for unfinished uploads. Each call is idempotent, so
 * a re-run of `cluster create` sets again what is already set. The documents come from
 * core/backup/provision.ts and core/backup/lifecycle.ts.
 */
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
  type LifecycleRule as SdkLifecycleRule,
} from "@aws-sdk/client-s3";
import { type LifecycleRule, mergeLifecycleRules } from "../../core/backup/lifecycle.js";
import { mergeBucketPolicy, PUBLIC_ACCESS_BLOCK } from "../../core/backup/provision.js";
import { UsageError } from "../../errors.js";
import { aws, isAwsError } from "./errors.js";

export type BucketOrigin = "created" | "owned";

/** S3's answers for a bucket that lives in another region than the client's. */
const OTHER_REGION = [
  "PermanentRedirect",
  "AuthorizationHeaderMalformed",
  "IllegalLocationConstraintException",
];

/** One S3 call on the bucket: a bucket of this account in another region is a usage error (exit 2). */
async function onBucket<T>(action: string, bucket: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isAwsError(error, ...OTHER_REGION)) {
      throw new UsageError(
        `The S3 bucket ${bucket} is in another region than the one asked for (${action})`,
        {
          hint: "Set backup.region (--backup-region) to the bucket's region, or choose another name with --backup-bucket NAME.",
          cause: error,
        },
      );
    }
    return aws(action, () => Promise.reject(error));
  }
}

/**
 * Creates the bucket in `region` ("owned" when this account already has it). A bucket of another account
 * (S3 names are global) is a usage error: nothing is changed, and the fix is another name.
 */
export async function createBucket(s3: S3Client, bucket: string, region: string): Promise<BucketOrigin> {
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is S3's default location and refuses to be named as a constraint.
        ...(region === "us-east-1"
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }),
    );
    return "created";
  } catch (error) {
    if (isAwsError(error, "BucketAlreadyOwnedByYou")) return "owned";
    if (isAwsError(error, "BucketAlreadyExists")) {
      throw new UsageError(
        `The S3 bucket name ${bucket} is taken by another AWS account (bucket names are global)`,
        {
          hint: "Choose another name for the backup bucket: --backup-bucket NAME (CLOUDDROVE_BACKUP_BUCKET, file key backup.bucket), then run cluster create again.",
          cause: error,
        },
      );
    }
    if (isAwsError(error, "InvalidBucketName")) {
      throw new UsageError(`${bucket} is not a valid S3 bucket name`, {
        hint: "Use 3-63 characters of a-z, 0-9, '-' and '.', beginning and ending with a letter or digit: --backup-bucket NAME.",
        cause: error,
      });
    }
    return onBucket(`creating S3 bucket ${bucket} in ${region}`, bucket, () => Promise.reject(error));
  }
}

/** SSE-S3 unless the bucket already has a default encryption of its own (e.g. SSE-KMS), which is kept. */
async function ensureEncryption(s3: S3Client, bucket: string): Promise<string> {
  try {
    const answer = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    const rule = answer.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
    if (rule?.SSEAlgorithm) return rule.SSEAlgorithm;
  } catch (error) {
    if (!isAwsError(error, "ServerSideEncryptionConfigurationNotFoundError")) {
      return onBucket(`reading the encryption of ${bucket}`, bucket, () => Promise.reject(error));
    }
  }
  await onBucket(`setting the default encryption of ${bucket}`, bucket, () =>
    s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" }, BucketKeyEnabled: true }],
        },
      }),
    ),
  );
  return "AES256";
}

async function bucketPolicy(s3: S3Client, bucket: string): Promise<string | undefined> {
  try {
    return (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
  } catch (error) {
    if (isAwsError(error, "NoSuchBucketPolicy")) return undefined;
    return onBucket(`reading the policy of ${bucket}`, bucket, () => Promise.reject(error));
  }
}

async function lifecycleRules(s3: S3Client, bucket: string): Promise<LifecycleRule[]> {
  try {
    const answer = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    return (answer.Rules ?? []) as LifecycleRule[];
  } catch (error) {
    // A bucket without any lifecycle configuration answers with this error, not with an empty list.
    if (isAwsError(error, "NoSuchLifecycleConfiguration")) return [];
    return onBucket(`reading the lifecycle configuration of ${bucket}`, bucket, () => Promise.reject(error));
  }
}

export interface BucketProtection {
  /** The default encryption in force: AES256 (SSE-S3), or the bucket's own aws:kms. */
  encryption: string;
  policyChanged: boolean;
}

/**
 * Encryption, the public access block (all four on), our TLS-only statement merged into the bucket's
 * policy, and our lifecycle rule merged into its rules: what was there of others' is kept.
 */
export async function protectBucket(
  s3: S3Client,
  input: { bucket: string; region: string; lifecycleRule: LifecycleRule },
): Promise<BucketProtection> {
  const { bucket } = input;
  const encryption = await ensureEncryption(s3, bucket);
  await onBucket(`blocking public access to ${bucket}`, bucket, () =>
    s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: bucket,
        PublicAccessBlockConfiguration: PUBLIC_ACCESS_BLOCK,
      }),
    ),
  );
  const policy = mergeBucketPolicy(await bucketPolicy(s3, bucket), bucket, input.region);
  if (policy) {
    await onBucket(`writing the TLS-only policy of ${bucket}`, bucket, () =>
      s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) })),
    );
  }
  const rules = mergeLifecycleRules(await lifecycleRules(s3, bucket), input.lifecycleRule);
  await onBucket(`writing the lifecycle configuration of ${bucket}`, bucket, () =>
    s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: rules as SdkLifecycleRule[] },
      }),
    ),
  );
  return { encryption, policyChanged: policy !== undefined };
}
