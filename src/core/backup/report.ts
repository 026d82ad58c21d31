/**
 * What the `backup` commands print: one document per command (the JSON/YAML result) and its text form.
 * Pure functions of plain data, so the wording is tested without a cluster or a bucket.
 */
import type { BackupResult, RestoreResult } from "./job-log.js";
import { formatBytes, formatSeconds } from "./job-log.js";
import type { SnapshotSummary } from "./snapshot.js";
import type { ArchiveReport } from "./verify.js";

export interface StepSummary {
  title: string;
  status: string;
}

export interface NowReport {
  ok: boolean;
  dryRun: boolean;
  target: string;
  namespace: string;
  cronJob: string;
  job: string;
  /** archive.sh's result: the snapshot's key, bytes, seconds, sha256, and the blobs referenced and uploaded (null when the Job failed, reported none, or a dry run). */
  archive: BackupResult | null;
  /** Where the archive is, s3://bucket/key. */
  location: string | null;
  jobSeconds: number | null;
  /** A failed Job: its reason and the pod's last log lines. */
  failure: string[] | null;
  warnings: string[];
  steps: StepSummary[];
}

export function nowReportText(report: NowReport): string {
  if (report.dryRun) {
    return `Dry run on ${report.target}: Job ${report.job} would be created from CronJob ${report.cronJob} in ${report.namespace}; nothing was changed.`;
  }
  if (!report.ok) return `The backup Job ${report.job} failed; no new archive was written.`;
  const archive = report.archive;
  if (!archive) return `Job ${report.job} completed, but it reported no archive (see the warning above).`;
  return [
    `Backup written: ${report.location ?? archive.key}`,
    `  snapshot:  ${formatBytes(archive.bytes)} (${archive.bytes} bytes)`,
    `  blobs:     ${archive.blobs} referenced (${formatBytes(archive.blobBytes)}); ${archive.uploaded} new uploaded (${formatBytes(archive.uploadedBytes)}), the rest already in the bucket`,
    `  retention: ${archive.expired} snapshots expired, ${archive.swept} unreferenced blobs deleted (${formatBytes(archive.sweptBytes)})`,
    `  duration:  ${formatSeconds(archive.seconds)}${report.jobSeconds !== null ? ` (Job ${formatSeconds(report.jobSeconds)})` : ""}`,
    `  sha256:    ${archive.sha256}`,
    `  job:       ${report.job}`,
  ].join("\n");
}

export interface ArchiveEntry {
  key: string;
  name: string;
  time: string;
  bytes: number;
  complete: boolean;
}

export interface ListReport {
  bucket: string | null;
  prefix: string | null;
  archives: ArchiveEntry[] | null;
  claim: string;
  snapshots: SnapshotSummary[] | null;
  /** Why a part is missing (no bucket configured, cluster unreachable). */
  notes: string[];
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

export function listReportText(report: ListReport): string {
  const lines: string[] = [];
  if (report.archives) {
    lines.push(`Archives in s3://${report.bucket}/${report.prefix} (oldest first):`);
    if (report.archives.length === 0) lines.push("  none yet (clouddrove backup now takes one)");
    else {
      const rows = [["KEY", "TIME (UTC)", "SIZE", ""]];
      for (const a of report.archives) {
        rows.push([
          a.key,
          a.time.replace(/\.\d+Z$/, "Z"),
          formatBytes(a.bytes),
          a.complete ? "" : "incomplete (no .sha256)",
        ]);
      }
      lines.push(...table(rows).map((l) => `  ${l}`));
    }
  }
  if (report.snapshots) {
    if (lines.length > 0) lines.push("");
    lines.push(`VolumeSnapshots of claim ${report.claim}:`);
    if (report.snapshots.length === 0) lines.push("  none");
    else {
      const rows = [["NAME", "CREATED", "SIZE", "READY"]];
      for (const s of report.snapshots) {
        rows.push([
          s.name,
          s.createdAt ?? "-",
          s.restoreSize ?? "-",
          s.readyToUse ? "yes" : s.error ? `no: ${s.error}` : "no",
        ]);
      }
      lines.push(...table(rows).map((l) => `  ${l}`));
    }
  }
  if (report.notes.length > 0) {
    if (lines.length > 0) lines.push("");
    lines.push(...report.notes.map((n) => `Note: ${n}`));
  }
  return lines.join("\n");
}

export interface SnapshotReport {
  ok: boolean;
  dryRun: boolean;
  target: string;
  namespace: string;
  claim: string;
  supported: boolean;
  driver: string | null;
  volume: string | null;
  snapshotClass: string | null;
  snapshot: SnapshotSummary | null;
  /** Why the claim cannot be snapshotted, and what to do instead. */
  reason: string | null;
  alternatives: string[];
  steps: StepSummary[];
}

export function snapshotReportText(report: SnapshotReport): string {
  if (!report.supported) {
    return [
      `No snapshot of claim ${report.claim}: ${report.reason}. Nothing was created.`,
      "Instead:",
      ...report.alternatives.map((a) => `  - ${a}`),
    ].join("\n");
  }
  if (report.dryRun) {
    return `Dry run on ${report.target}: a VolumeSnapshot of claim ${report.claim} (class ${report.snapshotClass}, driver ${report.driver}) would be created; nothing was changed.`;
  }
  const s = report.snapshot;
  if (!s) return `No snapshot of claim ${report.claim} was taken.`;
  return [
    `Snapshot ${s.name} of claim ${report.claim} is ${s.readyToUse ? "ready to use" : "not ready"}`,
    `  class:    ${report.snapshotClass} (driver ${report.driver})`,
    `  size:     ${s.restoreSize ?? "unknown"}`,
    `  created:  ${s.createdAt ?? "unknown"}`,
    `Restore it into a new claim with spec.dataSource: {apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: ${s.name}}.`,
  ].join("\n");
}

/**
 * `backup verify`'s result: which archive, and what verifyArchive found in it (on a dry run nothing is
 * read: the counts are 0 and the digests null).
 */
export interface VerifyReport extends Omit<ArchiveReport, "sha256" | "checksumOk"> {
  dryRun: boolean;
  bucket: string;
  key: string;
  expectedSha256: string | null;
  sha256: string | null;
  checksumOk: boolean | null;
}

export function verifyReportText(report: VerifyReport): string {
  const where = `s3://${report.bucket}/${report.key}`;
  if (report.dryRun) {
    return `Dry run: ${where} (${formatBytes(report.bytes)}) would be downloaded and checked; nothing was read.`;
  }
  const lines = [
    report.ok ? `${where} verifies.` : `${where} does NOT verify.`,
    `  checksum:      ${report.checksumOk ? "matches" : "MISMATCH"} (sha256 ${report.sha256}${report.checksumOk ? "" : `, expected ${report.expectedSha256}`})`,
    `  size:          ${formatBytes(report.bytes)}`,
    `  repositories:  ${report.repositories.length}${report.repositories.length > 0 ? ` (${report.repositories.slice(0, 5).join(", ")}${report.repositories.length > 5 ? ", ..." : ""})` : ""}`,
    `  tags:          ${report.tags}, manifests ${report.manifests}, blobs ${report.blobs}${report.blobsChecked > 0 ? ` (${report.blobsChecked} hashed and matched)` : ""}`,
  ];
  if (report.snapshot) {
    lines.push(
      `  blobs:         ${report.blobs} (${formatBytes(report.blobBytes)}) in the bucket's blobs/, each present with its size${report.blobsChecked > 0 ? " and sha256" : " (--deep also checks each sha256)"}`,
    );
  }
  if (report.problems.length > 0) lines.push("Problems:", ...report.problems.map((p) => `  - ${p}`));
  if (report.warnings.length > 0)
    lines.push(
      "In flight during the backup (restore settles these):",
      ...report.warnings.map((w) => `  - ${w}`),
    );
  return lines.join("\n");
}

export interface RestoreReport {
  ok: boolean;
  dryRun: boolean;
  target: string;
  namespace: string;
  key: string;
  toClaim: string | null;
  claim: string;
  job: string;
  /** Replicas stopped and started again (0 with --to-claim). */
  replicas: number;
  plan: string[];
  verified: { sha256: string; repositories: number; tags: number; manifests: number; blobs: number } | null;
  restored: RestoreResult | null;
  health: { healthy: boolean; problems: string[] } | null;
  /** Set when the restore stopped before the end: where, the state it left, and how to finish. */
  stoppedIn: string | null;
  state: string | null;
  finish: string[];
  warnings: string[];
  steps: StepSummary[];
}

export function restoreReportText(report: RestoreReport): string {
  if (report.dryRun) {
    return [
      `Dry run on ${report.target}: nothing was changed. The restore would:`,
      ...report.plan.map((p) => `  ${p}`),
    ].join("\n");
  }
  if (!report.ok) {
    return [
      `The restore of ${report.key} stopped (${report.stoppedIn}).`,
      `State: ${report.state}`,
      ...(report.finish.length > 0 ? ["To finish:", ...report.finish.map((c) => `  ${c}`)] : []),
    ].join("\n");
  }
  const lines = [`Restored ${report.key} into claim ${report.claim}.`];
  if (report.verified) {
    lines.push(
      `  verified first:  sha256 ${report.verified.sha256}, ${report.verified.repositories} repositories, ${report.verified.tags} tags`,
    );
  }
  if (report.restored) {
    const r = report.restored;
    lines.push(
      `  restored:        ${formatBytes(r.bytes)} in ${formatSeconds(r.seconds)}, ${r.repositories} repositories, ${r.tags} tags, ${r.manifests} manifests`,
    );
    if (r.notes > 0) lines.push(`  notes:           ${r.notes} tag(s) settled (see the Job's log)`);
    lines.push(`  previous data:   ${r.previous}`);
  }
  if (report.toClaim)
    lines.push(`  The live registry was not touched; claim ${report.toClaim} holds the restored data.`);
  else if (report.health) {
    lines.push(
      report.health.healthy
        ? `  registry:        ${report.replicas} replica(s) running again and healthy`
        : `  registry:        running again, NOT healthy: ${report.health.problems.join("; ")}`,
    );
  }
  return lines.join("\n");
}
