/**
 * The bucket's lifecycle rule for the backup prefix: S3 removes the parts of uploads that a killed job
 * left behind (they are billed but invisible in a listing) and, on a versioned bucket, the old versions
 * of what retention deleted. It expires nothing current: a blob is uploaded once and referenced by every
 * later snapshot, so expiring it by ITS age would break them. Snapshots expire by count and age, and
 * unreferenced blobs are swept, in each backup run (archive.sh, which knows the references).
 *
 * PutBucketLifecycleConfiguration replaces the bucket's WHOLE configuration, so our rule is merged into
 * the rules already there (matched by ID), never written alone over them.
 */
import type { Config } from "../../config/schema.js";
import { UsageError } from "../../errors.js";

/** The shape of one rule as the S3 API (and @aws-sdk/client-s3's LifecycleRule) spells it. */
export interface LifecycleRule {
  ID?: string;
  Status: "Enabled" | "Disabled" | string;
  Filter?: { Prefix?: string } & Record<string, unknown>;
  Expiration?: { Days?: number } & Record<string, unknown>;
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation?: number };
  NoncurrentVersionExpiration?: { NoncurrentDays?: number } & Record<string, unknown>;
  [field: string]: unknown;
}

export const RETENTION_RULE_ID = "clouddrove-backup-retention";

export interface RetentionOptions {
  /** Days before S3 removes the parts of an unfinished multipart upload: 1-7 (default 2). */
  abortIncompleteUploadDays?: number;
  /** On a versioned bucket, days an expired archive stays as a noncurrent version (default 7). */
  noncurrentDays?: number;
}

/** The lifecycle rule for config.backup's prefix: unfinished uploads aborted, no expiration. */
export function retentionRule(config: Config, options: RetentionOptions = {}): LifecycleRule {
  const { prefix } = config.backup;
  const abortDays = options.abortIncompleteUploadDays ?? 2;
  if (!Number.isInteger(abortDays) || abortDays < 1 || abortDays > 7) {
    throw new UsageError(`the abort-incomplete-upload period must be 1-7 days, not ${abortDays}`, {
      hint: "A backup job runs for hours at most; 2 days leaves room for a slow run.",
    });
  }
  return {
    ID: RETENTION_RULE_ID,
    Status: "Enabled",
    Filter: { Prefix: prefix },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: abortDays },
    // Harmless on an unversioned bucket; on a versioned one, what retention deleted would otherwise stay
    // forever as noncurrent versions (and be billed).
    NoncurrentVersionExpiration: { NoncurrentDays: options.noncurrentDays ?? 7 },
  };
}

/** The bucket's rules with ours added or replaced (by ID); every other rule is kept as it was. */
export function mergeLifecycleRules(
  existing: readonly LifecycleRule[],
  ours: LifecycleRule,
): LifecycleRule[] {
  const others = existing.filter((rule) => rule.ID !== ours.ID);
  return [...others, ours];
}

/** Rules of others that expire objects under our prefix: they would delete blobs snapshots still reference. */
export function overlappingRules(existing: readonly LifecycleRule[], ours: LifecycleRule): LifecycleRule[] {
  const prefix = ours.Filter?.Prefix ?? "";
  return existing.filter((rule) => {
    if (rule.ID === ours.ID || rule.Status !== "Enabled" || !rule.Expiration) return false;
    const theirs = rule.Filter?.Prefix ?? (typeof rule.Prefix === "string" ? rule.Prefix : "");
    return prefix.startsWith(theirs) || theirs.startsWith(prefix);
  });
}
