/**
 * Reading what a backup or restore Job said: the machine-readable last line archive.sh and restore.sh
 * print (`clouddrove-backup key=... bytes=...`, `clouddrove-restore key=...`) and the last lines of a
 * failed pod's log.
 */

export interface ArchiveResult {
  key: string;
  bytes: number;
  seconds: number;
  sha256: string;
}

/** archive.sh's line for a snapshot: what it references, and what this run had to upload. */
export interface BackupResult extends ArchiveResult {
  /** Blobs the snapshot references, and their bytes. */
  blobs: number;
  blobBytes: number;
  /** Of those, the blobs that were not in the bucket yet, and their bytes. */
  uploaded: number;
  uploadedBytes: number;
  /** Retention after the snapshot: snapshots deleted, and unreferenced blobs deleted with their bytes. */
  expired: number;
  swept: number;
  sweptBytes: number;
}

export interface RestoreResult extends ArchiveResult {
  repositories: number;
  tags: number;
  manifests: number;
  /** Tags restore.sh had to settle on an earlier manifest (see restore.sh). */
  notes: number;
  /** Where the replaced data was kept ("none" when the volume held none). */
  previous: string;
}

const MARKERS = { archive: "clouddrove-backup", restore: "clouddrove-restore" } as const;

/** The key=value pairs of the last line that starts with the marker; undefined when there is none. */
export function resultFields(log: string, marker: string): Record<string, string> | undefined {
  const line = log
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith(`${marker} `))
    .at(-1);
  if (!line) return undefined;
  const fields: Record<string, string> = {};
  for (const pair of line.slice(marker.length + 1).split(/\s+/)) {
    const at = pair.indexOf("=");
    if (at > 0) fields[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return fields;
}

const count = (value: string | undefined): number => {
  const n = Number(value);
  return Number.isFinite(n) ? n : Number.NaN;
};

function archiveFields(fields: Record<string, string>): ArchiveResult | undefined {
  const result = {
    key: fields.key ?? "",
    bytes: count(fields.bytes),
    seconds: count(fields.seconds),
    sha256: fields.sha256 ?? "",
  };
  if (!result.key || !/^[a-f0-9]{64}$/.test(result.sha256) || Number.isNaN(result.bytes)) return undefined;
  return result;
}

/** archive.sh's result line, or undefined when the log has none (or a malformed one). */
export function parseArchiveResult(log: string): BackupResult | undefined {
  const fields = resultFields(log, MARKERS.archive);
  const base = fields ? archiveFields(fields) : undefined;
  if (!fields || !base) return undefined;
  return {
    ...base,
    blobs: count(fields.blobs),
    blobBytes: count(fields.blob_bytes),
    uploaded: count(fields.uploaded),
    uploadedBytes: count(fields.uploaded_bytes),
    expired: count(fields.expired),
    swept: count(fields.swept),
    sweptBytes: count(fields.swept_bytes),
  };
}

/** restore.sh's result line, or undefined when the log has none. */
export function parseRestoreResult(log: string): RestoreResult | undefined {
  const fields = resultFields(log, MARKERS.restore);
  const base = fields ? archiveFields(fields) : undefined;
  if (!fields || !base) return undefined;
  return {
    ...base,
    repositories: count(fields.repositories),
    tags: count(fields.tags),
    manifests: count(fields.manifests),
    notes: count(fields.notes),
    previous: fields.previous ?? "none",
  };
}

/** The last `n` non-empty lines, for an error report. */
export function lastLines(log: string, n: number): string[] {
  return log
    .split("\n")
    .map((l) => l.replace(/\s+$/, ""))
    .filter((l) => l !== "")
    .slice(-n);
}

/** A size for people: 1.5 GiB, 320 MiB, 12 KiB, 512 B. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return "unknown size";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** 90 -> "1m30s", 3600 -> "1h0m0s", 4 -> "4s". */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "unknown";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h${m}m${rest}s`;
  if (m > 0) return `${m}m${rest}s`;
  return `${rest}s`;
}

/**
 * A Job (or VolumeSnapshot) name that sorts by time and fits the 63-character limit; `suffix` (a few
 * random characters) keeps two runs in the same second apart.
 */
export function timestampedName(base: string, now: Date, suffix?: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "")
    .replace("T", "-")
    .toLowerCase();
  return suffix ? `${base}-${stamp}-${suffix}` : `${base}-${stamp}`;
}
