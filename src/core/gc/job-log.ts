/**
 * What the garbage-collection Job's log says (templates/gc/collect.sh): one summary line per phase,
 * `clouddrove-gc <phase> exit=E blobs=N manifests=M bytes=B`, and above it the registry's own lines.
 *
 * The counts are the registry's: "blob eligible for deletion: DIGEST" lines (collect.sh adds each blob's
 * size, read from the store before the sweep) and the final "manifest eligible for deletion: {repo
 * DIGEST [tags]}" lines, which appear only with --delete-untagged. A deleted image's manifest is itself a
 * blob, so it is counted among the blobs; "manifests" are the untagged ones --delete-untagged removes.
 * Where the log still holds the registry's "N blobs marked, N blobs and M manifests eligible for
 * deletion" line, the two must agree.
 */
import { resultFields } from "../backup/job-log.js";

export type GcPhase = "plan" | "sweep" | "check";

export interface PhaseSummary {
  exit: number;
  blobs: number;
  manifests: number;
  bytes: number;
}

export interface EligibleBlob {
  digest: string;
  /** Read from the store by collect.sh before anything was deleted; null when the line carries none. */
  bytes: number | null;
}

export interface GcLog {
  plan?: PhaseSummary;
  sweep?: PhaseSummary;
  check?: PhaseSummary;
  /** The eligible blobs the plan listed (as far as the log read reaches back). */
  blobs: EligibleBlob[];
  /** The untagged manifests the plan listed: "repository@digest" (3.x), or the digest alone (2.8.2). */
  manifests: string[];
  /** The registry's own count for the plan ("N blobs and M manifests eligible for deletion"). */
  registryCounts?: { marked: number; blobs: number; manifests: number };
  /** collect.sh's "done" line: the Job ran to its end. */
  done: boolean;
  problems: string[];
}

const MARKER = "clouddrove-gc";
const PHASES: GcPhase[] = ["plan", "sweep", "check"];
const BLOB_LINE = /^blob eligible for deletion: (sha256:[a-f0-9]{64})(?: size=(\d+))?$/;
/** 3.x: the final list, with repository and tags. */
const MANIFEST_LINE = /^manifest eligible for deletion: \{(\S+) (sha256:[a-f0-9]{64}) \[[^\]]*\]\}$/;
/** 2.8.2 (and 3.x first): each untagged manifest as it is found. */
const FOUND_MANIFEST_LINE = /^manifest eligible for deletion: (sha256:[a-f0-9]{64})$/;
const SUMMARY_LINE = /^(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion$/;

function summaryOf(fields: Record<string, string> | undefined): PhaseSummary | undefined {
  if (!fields) return undefined;
  const numbers = ["exit", "blobs", "manifests", "bytes"].map((key) => Number(fields[key]));
  if (numbers.some((n) => !Number.isInteger(n))) return undefined;
  const [exit, blobs, manifests, bytes] = numbers as [number, number, number, number];
  return { exit, blobs, manifests, bytes };
}

/** The log of one Job run, read into its phases. */
export function parseGcLog(log: string): GcLog {
  const lines = log.split("\n").map((line) => line.replace(/\s+$/, ""));
  const result: GcLog = { blobs: [], manifests: [], done: false, problems: [] };
  let phase: GcPhase | undefined;
  const found: string[] = [];
  for (const line of lines) {
    const header = new RegExp(`^${MARKER} (plan|sweep|check): `).exec(line);
    if (header) {
      phase = header[1] as GcPhase;
      continue;
    }
    if (line.startsWith(`${MARKER} done `)) result.done = true;
    if (phase !== "plan") continue;
    const blob = BLOB_LINE.exec(line);
    if (blob) {
      result.blobs.push({ digest: blob[1] as string, bytes: blob[2] === undefined ? null : Number(blob[2]) });
      continue;
    }
    const manifest = MANIFEST_LINE.exec(line);
    if (manifest) {
      result.manifests.push(`${manifest[1]}@${manifest[2]}`);
      continue;
    }
    const foundManifest = FOUND_MANIFEST_LINE.exec(line);
    if (foundManifest) {
      found.push(foundManifest[1] as string);
      continue;
    }
    const summary = SUMMARY_LINE.exec(line);
    if (summary) {
      const [marked, blobs, manifests] = summary.slice(1).map(Number) as [number, number, number];
      result.registryCounts = { marked, blobs, manifests };
    }
  }
  // Without the final list (2.8.2), the manifests as found; their number is the registry's summary's.
  if (result.manifests.length === 0) result.manifests = [...new Set(found)];
  for (const name of PHASES) {
    const summary = summaryOf(
      resultFields(
        lines.filter((l) => l.startsWith(`${MARKER} ${name} exit=`)).join("\n"),
        `${MARKER} ${name}`,
      ),
    );
    if (summary) result[name] = summary;
  }
  const plan = result.plan;
  const registry = result.registryCounts;
  if (plan && registry && (plan.blobs !== registry.blobs || plan.manifests !== registry.manifests)) {
    result.problems.push(
      `the plan counted ${plan.blobs} blob(s) and ${plan.manifests} manifest(s), the registry ${registry.blobs} and ${registry.manifests}`,
    );
  }
  return result;
}

/** The numbers a report gives: what the plan found, and (after a sweep) what it left behind. */
export interface GcOutcome {
  blobs: number;
  manifests: number;
  bytes: number;
  /** After a sweep: blobs still eligible (0 when everything planned went); null for a dry run. */
  remaining: number | null;
}

export function gcOutcome(log: GcLog): GcOutcome | undefined {
  if (!log.plan) return undefined;
  return {
    blobs: log.plan.blobs,
    manifests: log.plan.manifests,
    bytes: log.plan.bytes,
    remaining: log.check ? log.check.blobs : null,
  };
}
