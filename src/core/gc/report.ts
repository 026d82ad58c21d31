/**
 * `clouddrove gc`'s report (text and JSON) and the warning `status` gives while the registry is
 * read-only.
 */
import { formatBytes } from "../backup/job-log.js";
import { describeHolder, type HolderInfo } from "../lock/lease.js";
import { GC_REASON } from "./read-only.js";

export interface ReplicaProof {
  pod: string;
  /** GET of a manifest (or /v2/ when the registry holds no image): its status. */
  pull: { status: number; what: string };
  /** POST /v2/<repo>/blobs/uploads/: the registry's answer while read-only (405). */
  push: { status: number; code: string };
}

export interface GcReport {
  ok: boolean;
  dryRun: boolean;
  target: string;
  namespace: string;
  image: string | null;
  job: string | null;
  deleteUntagged: boolean;
  /** What was freed (or, for a dry run, would be). null when the Job did not get that far. */
  freed: { blobs: number; manifests: number; bytes: number } | null;
  /** Blobs still eligible after the sweep (0 when all went); null for a dry run. */
  remaining: number | null;
  /** The fewest replicas ready at any moment of the switches (at least 2 is the promise). */
  minimumReady: number | null;
  readOnly: ReplicaProof[];
  /** The registry was found read-only from an earlier, interrupted run and is completed by this one. */
  resumed: boolean;
  healthy: boolean | null;
  failure: string[] | null;
  warnings: string[];
  steps: Array<{ title: string; status: string }>;
}

export function gcReportText(report: GcReport): string {
  const lines: string[] = [];
  const verb = report.dryRun ? "would free" : "freed";
  lines.push(
    `Garbage collection${report.dryRun ? " (dry run)" : ""} of ${report.namespace} on ${report.target}: ${report.ok ? "done" : "FAILED"}`,
  );
  if (report.freed) {
    lines.push(
      `  ${verb}: ${formatBytes(report.freed.bytes)} (${report.freed.bytes} bytes) in ${report.freed.blobs} blob(s); ${report.freed.manifests} untagged manifest(s)`,
    );
  }
  lines.push(`  untagged manifests: ${report.deleteUntagged ? "deleted (--delete-untagged)" : "kept"}`);
  if (report.remaining !== null) lines.push(`  still eligible after the sweep: ${report.remaining}`);
  if (report.job) lines.push(`  Job: ${report.job} (${report.image ?? "?"})`);
  if (report.resumed) lines.push("  completed a garbage collection that had been interrupted");
  if (report.readOnly.length > 0) {
    lines.push("  while read-only:");
    for (const proof of report.readOnly) {
      lines.push(
        `    ${proof.pod}: pull ${proof.pull.status} (${proof.pull.what}), push refused ${proof.push.status} ${proof.push.code}`,
      );
    }
  }
  if (report.minimumReady !== null)
    lines.push(`  fewest replicas ready while rolling: ${report.minimumReady}`);
  if (report.healthy !== null)
    lines.push(`  health afterwards: ${report.healthy ? "healthy" : "NOT healthy"}`);
  for (const line of report.failure ?? []) lines.push(`  ${line}`);
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`);
  return lines.join("\n");
}

/**
 * The warning while the registry is read-only: who made it so and whether that run is still going (it
 * holds the lock) or was interrupted (a re-run of gc, or a deploy, restores writes).
 */
export function readOnlyWarning(
  state: { reason: string | undefined; since: string | undefined },
  lockHolder: HolderInfo | undefined,
): string {
  const since = state.since ? ` since ${state.since}` : "";
  if (state.reason !== GC_REASON) {
    return `the registry is read-only${since} (storage.maintenance.readonly in its ConfigMap): pushes are refused; clouddrove deploy makes it writable`;
  }
  if (lockHolder && /^gc\b/.test(lockHolder.command)) {
    return `the registry is read-only${since} (garbage collection running: ${describeHolder(lockHolder)}): pushes are refused until it finishes`;
  }
  return `the registry is read-only${since} (garbage collection interrupted): pushes are refused; run clouddrove gc again to finish it, or clouddrove deploy to restore writes now`;
}
