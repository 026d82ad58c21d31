/**
 * What `deploy` says about the backups it set up: warnings about settings that would quietly break the
 * scheduled archive, and the report's backup section (JSON and text).
 */
import type { Config } from "../../config/schema.js";
import { backupNames } from "./render.js";

/** What deploy did with the retention rule on the bucket. */
export interface RetentionOutcome {
  bucket: string;
  prefix: string;
  ruleId: string;
  /** Days after which S3 aborts an unfinished multipart upload. */
  abortIncompleteUploadDays: number;
  action: "created" | "configured" | "unchanged";
  /** With a dry run: what the action would have been. */
  dryRun: boolean;
  /** Other rules on the bucket that expire objects under the prefix (they would break snapshots). */
  overlapping: string[];
}

export interface BackupDeploySection {
  cronJob: string;
  schedule: string;
  timeZone: string;
  archives: string;
  credentials: Config["backup"]["credentials"];
  retentionRule: RetentionOutcome | { action: "skipped"; reason: string };
}

/** What deploy and status say when no bucket is configured: the registry's data has no copy anywhere. */
export const BACKUPS_OFF =
  "backups are off: no backup bucket is configured, so the registry's data has no copy outside its volume; " +
  "`clouddrove cluster create` makes a bucket and records it (backup.setup create), or set backup.bucket " +
  "(--backup-bucket, CLOUDDROVE_BACKUP_BUCKET) yourself, then deploy again";

/** status's warnings about backups (not problems: the registry serves without them). */
export function backupStatusWarnings(config: Config): string[] {
  return config.backup.bucket ? [] : [BACKUPS_OFF];
}

/**
 * Warnings for settings that deploy accepts but that would keep the snapshots from reaching the bucket,
 * and that there are none at all without a bucket.
 */
export function backupDeployNotes(config: Config): { warnings: string[] } {
  const warnings: string[] = backupStatusWarnings(config);
  const endpoint = config.backup.endpoint;
  if (endpoint) {
    const url = new URL(endpoint);
    const port = url.port || (url.protocol === "https:" ? "443" : "80");
    if (port !== "443") {
      // The backup pods' NetworkPolicy admits DNS and HTTPS (TCP 443) only.
      warnings.push(
        `backup.endpoint ${endpoint} uses port ${port}, but NetworkPolicy registry-clouddrove-backup-egress lets the backup ` +
          "pods reach TCP 443 only: the archive cannot reach it unless that policy admits the port.",
      );
    }
  }
  return { warnings };
}

export function backupDeploySection(
  config: Config,
  retention: RetentionOutcome | undefined,
  retentionSkipped: boolean,
): BackupDeploySection | undefined {
  const { bucket, prefix, schedule, timeZone, credentials } = config.backup;
  if (!bucket) return undefined;
  return {
    cronJob: backupNames.cronJob,
    schedule,
    timeZone,
    archives: `s3://${bucket}/${prefix}`,
    credentials,
    retentionRule:
      retention ??
      ({
        action: "skipped",
        reason: retentionSkipped ? "--no-retention-rule" : "not reached",
      } as const),
  };
}

export function backupDeployText(section: BackupDeploySection): string {
  const rule = section.retentionRule;
  const retention =
    rule.action === "skipped"
      ? `not put on the bucket (${rule.reason})`
      : `${rule.ruleId} ${rule.dryRun && rule.action !== "unchanged" ? `would be ${rule.action}` : rule.action}, unfinished uploads aborted after ${rule.abortIncompleteUploadDays} days`;
  return [
    `Backups:        CronJob ${section.cronJob} "${section.schedule}" (${section.timeZone}) to ${section.archives}`,
    `Retention:      ${retention}`,
    "                clouddrove backup now    # take one now; clouddrove backup list shows them",
  ].join("\n");
}
