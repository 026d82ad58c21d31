/**
 * Step (of `deploy`, when a bucket is configured): the retention rule on the backup bucket. It is merged
 * into the bucket's lifecycle configuration, never written over other rules, and written only when it
 * differs from what is there (a second deploy changes nothing). A dry run reads and reports only.
 */
import type { ListrTask } from "listr2";
import type { Config } from "../../config/schema.js";
import type { BackupBucketTarget } from "../../core/backup/bucket-target.js";
import type { RetentionOutcome } from "../../core/backup/deploy-notes.js";
import { type LifecycleRule, overlappingRules, retentionRule } from "../../core/backup/lifecycle.js";
import { ClouddroveError, OperationError } from "../../errors.js";

export interface RetentionStepOptions {
  config: Config;
  target: BackupBucketTarget;
  dryRun: boolean;
  /** Filled in by the step, for the report. */
  outcome: { value?: RetentionOutcome };
  warnings: string[];
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Was our rule already there exactly as we would write it? */
export function retentionAction(
  existing: readonly LifecycleRule[],
  ours: LifecycleRule,
): "created" | "configured" | "unchanged" {
  const current = existing.find((rule) => rule.ID === ours.ID);
  if (!current) return "created";
  return canonical(current) === canonical(ours) ? "unchanged" : "configured";
}

function explain(error: unknown, bucket: string): unknown {
  const name = (error as { cause?: { name?: string } })?.cause?.name;
  if (error instanceof ClouddroveError && name === "NotImplemented") {
    return new OperationError(`The S3 server of s3://${bucket} does not implement lifecycle rules`, {
      cause: error,
      hint:
        "Some S3-compatible servers lack the lifecycle API. Expire old archives another way, and deploy with " +
        "--no-retention-rule to skip this step.",
    });
  }
  if (error instanceof ClouddroveError) {
    return new ClouddroveError(
      `${error.message}; nothing was changed (this step runs before anything is applied)`,
      error.exitCode,
      {
        cause: error,
        details: error.details,
        hint: `${error.hint ?? ""} To deploy without touching the bucket, pass --no-retention-rule.`.trim(),
      },
    );
  }
  return error;
}

export function retentionRuleStep<C>(options: RetentionStepOptions): ListrTask<C> {
  const { config, target, dryRun } = options;
  const where = `s3://${target.bucket}/${config.backup.prefix}`;
  return {
    title: `Put the retention rule on ${where}`,
    task: async (_ctx, task) => {
      const ours = retentionRule(config);
      const { openBackupBucket } = await import("../../adapters/s3.js");
      const bucket = await openBackupBucket(target);
      try {
        const existing = await bucket.getLifecycleRules();
        const action = retentionAction(existing, ours);
        const overlapping = overlappingRules(existing, ours).map((rule) => rule.ID ?? "(a rule without ID)");
        for (const id of overlapping) {
          options.warnings.push(
            `the lifecycle rule ${id} on s3://${target.bucket} also expires objects under ${config.backup.prefix}: it would delete blobs that snapshots still reference; limit it to other prefixes (clouddrove's own retention prunes snapshots and unreferenced blobs)`,
          );
        }
        if (!dryRun && action !== "unchanged") await bucket.putLifecycleRule(ours);
        options.outcome.value = {
          bucket: target.bucket,
          prefix: config.backup.prefix,
          ruleId: ours.ID ?? "",
          abortIncompleteUploadDays: ours.AbortIncompleteMultipartUpload?.DaysAfterInitiation ?? 0,
          action,
          dryRun,
          overlapping,
        };
        const verb = action === "unchanged" ? "unchanged" : dryRun ? `would be ${action}` : action;
        task.title = `Retention rule on ${where}: ${verb} (unfinished uploads aborted; snapshots are pruned by each backup run)`;
      } catch (error) {
        throw explain(error, target.bucket);
      } finally {
        bucket.close();
      }
    },
  };
}
