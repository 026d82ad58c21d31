/**
 * Step: verify a snapshot (or an earlier full archive) in S3 as it streams past (nothing is written to
 * disk): its sha256 against the .sha256 object archive.sh wrote last, every blob it references present
 * in the bucket with its size (hashed too with checkBlobDigests), and a registry layout in which every
 * manifest can be served.
 * `backup verify` reports the outcome; `backup restore` refuses an archive that does not verify.
 */
import type { ListrTask } from "listr2";
import type { ArchiveObject, BackupBucket } from "../../adapters/s3.js";
import { formatBytes } from "../../core/backup/job-log.js";
import { type ArchiveReport, verifyArchive } from "../../core/backup/verify.js";
import { OperationError } from "../../errors.js";

export interface VerifyContext {
  bucket: BackupBucket;
  archive: ArchiveObject;
  checkBlobDigests: boolean;
  expectedSha256?: string;
  report?: ArchiveReport;
}

/** Counts the bytes that pass, for progress. */
async function* counted(
  stream: AsyncIterable<Uint8Array>,
  onBytes: (total: number) => void,
): AsyncIterable<Uint8Array> {
  let total = 0;
  let reported = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    // A progress line per 64 MiB is plenty, and keeps the renderer out of the hot loop.
    if (total - reported >= 64 * 1024 * 1024) {
      reported = total;
      onBytes(total);
    }
    yield chunk;
  }
  onBytes(total);
}

/** The problems of a report that failed, one line each (a checksum mismatch comes first). */
export function verifyProblems(report: ArchiveReport): string[] {
  return report.problems;
}

export function verifyArchiveTask<C extends VerifyContext>(options: { refuse: boolean }): ListrTask<C> {
  return {
    title: "Verify the archive",
    task: async (ctx, task) => {
      const { archive, bucket } = ctx;
      task.title = `Verify ${archive.key} (${formatBytes(archive.bytes)})`;
      ctx.expectedSha256 = await bucket.readChecksum(archive.key);
      const stream = await bucket.readObject(archive.key);
      const report = await verifyArchive(
        counted(stream, (total) => {
          task.output = `${formatBytes(total)} of ${formatBytes(archive.bytes)} read and checked`;
        }),
        {
          expectedSha256: ctx.expectedSha256,
          checkBlobDigests: ctx.checkBlobDigests,
          blobStore: bucket.blobStore(),
        },
      );
      ctx.report = report;
      if (!report.ok && options.refuse) {
        throw new OperationError(`The archive ${archive.key} does not verify; it was refused`, {
          details: verifyProblems(report),
          hint: "Choose another archive (clouddrove backup list) and check it with clouddrove backup verify --from KEY.",
        });
      }
      task.title = report.ok
        ? `Verified ${archive.key}: checksum matches, ${report.repositories.length} repositories, ${report.tags} tags, ${report.manifests} manifests, ${report.blobs} blobs`
        : `${archive.key} does not verify (${verifyProblems(report).length} problem(s))`;
    },
  };
}
