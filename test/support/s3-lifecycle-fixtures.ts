/**
 * What the lifecycle tests share: S3's errors as the SDK throws them (for the answers faked at the client),
 * a bucket's other rule, and deploy's retention step run on its own.
 */
import { S3ServiceException } from "@aws-sdk/client-s3";
import type { Config } from "../../src/config/schema.js";
import type { BackupBucketTarget } from "../../src/core/backup/bucket-target.js";
import type { RetentionOutcome } from "../../src/core/backup/deploy-notes.js";
import type { LifecycleRule } from "../../src/core/backup/lifecycle.js";
import { retentionRuleStep } from "../../src/steps/backup/retention.js";

/** The error the SDK throws for an answer with this error code and HTTP status. */
export function s3ServiceError(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: "client",
    $metadata: { httpStatusCode: status },
    message: name,
  });
}

/** A rule of the bucket's own that is not clouddrove's: it expires logs/ after 3 days. */
export function logsRule(): LifecycleRule {
  return {
    ID: "logs",
    Status: "Enabled",
    Filter: { Prefix: "logs/" },
    Expiration: { Days: 3 },
  };
}

/** Runs deploy's retention step on its own, as the deploy's task list would; what it reported. */
export async function runRetentionStep(
  config: Config,
  target: BackupBucketTarget,
  dryRun = false,
): Promise<{ outcome: RetentionOutcome | undefined; warnings: string[]; title: string }> {
  const outcome: { value?: RetentionOutcome } = {};
  const warnings: string[] = [];
  const step = retentionRuleStep<object>({ config, target, dryRun, outcome, warnings });
  const task = { title: String(step.title), output: "" };
  await (step.task as (ctx: object, task: unknown) => Promise<void>)({}, task);
  return { outcome: outcome.value, warnings, title: task.title };
}
