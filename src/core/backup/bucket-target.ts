/**
 * Where the backups are, as the CLI reaches them: bucket, prefix, region, endpoint and credentials, from
 * the settings and the environment. Pure: adapters/s3.ts opens the bucket this names.
 */
import type { Config } from "../../config/schema.js";
import { UsageError } from "../../errors.js";

export interface BackupBucketTarget {
  bucket: string;
  /** Key prefix of the archives, e.g. "clouddrove/" (a missing trailing "/" is added). */
  prefix: string;
  region?: string;
  /** An S3-compatible endpoint, e.g. "http://127.0.0.1:4568"; implies path-style addressing. */
  endpoint?: string;
  /** Static keys; without them the SDK's default chain (env, IRSA, SSO, instance role) is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * The configured bucket, prefix, region and endpoint; static keys only when the environment holds both
 * (else the SDK's own chain: profiles, SSO, instance roles). Without a configured endpoint, the command's
 * environment may name one as the AWS SDKs and CLI read it: AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL
 * (how a local S3-compatible store is named). Read from `env` (the command's), never from this
 * process's. Throws (exit 2) when no bucket is configured.
 */
export function backupBucketTarget(config: Config, env: NodeJS.ProcessEnv): BackupBucketTarget {
  const { bucket, prefix } = config.backup;
  const endpoint = config.backup.endpoint ?? (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined);
  if (!bucket) {
    throw new UsageError("No backup bucket is configured", {
      hint: "Set --backup-bucket (CLOUDDROVE_BACKUP_BUCKET, file key backup.bucket) to the S3 bucket of the archives.",
    });
  }
  const region =
    config.backup.region ??
    config.cluster.region ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    // An S3-compatible server does not care; the SDK still wants one to sign with.
    (endpoint ? "us-east-1" : undefined);
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  return {
    bucket,
    prefix,
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId && secretAccessKey
      ? {
          credentials: {
            accessKeyId,
            secretAccessKey,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  };
}
