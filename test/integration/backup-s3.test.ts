/**
 * `clouddrove backup list` and `backup verify` through the real S3 adapter against s3rver, on archives
 * the real archive.sh wrote (dash, Debian's rclone, GNU tar): a good archive verifies, a corrupted one
 * does not (exit 1), an unfinished one is named as such, and listing works with no cluster at all.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runCli } from "../support/run-cli.js";
import { type S3Server, startS3Server } from "../support/s3-server.js";
import { BAD, GOOD, s3Env, s3Flags, writeGoodAndBadArchives } from "./backup-fixtures.js";

let s3: S3Server;
let work: string;
let goodKey: string;
let badKey: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "clouddrove-backup-s3-"));
  s3 = await startS3Server();
  ({ goodKey, badKey } = await writeGoodAndBadArchives(s3, join(work, "data")));
  // A run that died before writing its checksum: the archive object alone.
  const client = new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  await client.send(
    new PutObjectCommand({ Bucket: s3.bucket, Key: `${GOOD}29990101T000000Z.tar`, Body: Buffer.alloc(1024) }),
  );
  client.destroy();
}, 60_000);

afterAll(async () => {
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function cli(args: string[], env: NodeJS.ProcessEnv = s3Env(s3)) {
  // No cluster: the kubeconfig points nowhere.
  return runCli(["--kubeconfig", join(work, "no-kubeconfig"), ...args], {
    env: cleanEnv({ CI: "true", ...env }),
  });
}

describe("backup list", () => {
  it("lists the archives (complete and not) even when no cluster can be reached", async () => {
    const run = await cli(["-o", "json", "backup", "list", ...s3Flags(s3, GOOD)]);
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.bucket).toBe(s3.bucket);
    expect(report.archives.map((a: { key: string; complete: boolean }) => [a.key, a.complete])).toEqual([
      [goodKey, true],
      [`${GOOD}29990101T000000Z.tar`, false],
    ]);
    // A snapshot holds metadata only: the 64 KiB layer is in the bucket's blobs/, not in it.
    expect(report.archives[0].bytes).toBeGreaterThan(0);
    expect(report.archives[0].bytes).toBeLessThan(64 * 1024);
    expect(Date.parse(report.archives[0].time)).not.toBeNaN();
    expect(report.snapshots).toBeNull();
    expect(report.notes.join("\n")).toContain("VolumeSnapshots are not listed");

    const text = await cli(["backup", "list", ...s3Flags(s3, GOOD)]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(goodKey);
    expect(text.stdout).toContain("incomplete (no .sha256)");
  });

  it("exit 2 naming the flag when no bucket is configured and no cluster is reachable", async () => {
    const run = await cli(["backup", "list"]);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("No kubeconfig found");
    const verify = await cli(["backup", "verify"]);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toContain("--backup-bucket");
  });
});

describe("backup verify", () => {
  it("a good snapshot verifies: checksum, layout, every blob present with its size, and with --deep its digest", async () => {
    const run = await cli([
      "-o",
      "json",
      "backup",
      "verify",
      "--deep",
      "--from",
      "latest",
      ...s3Flags(s3, GOOD),
    ]);
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      ok: true,
      key: goodKey,
      checksumOk: true,
      repositories: ["library/app"],
      tags: 1,
      manifests: 1,
      blobs: 3,
      blobsChecked: 3,
      snapshot: true,
      problems: [],
    });
    expect(report.blobBytes).toBeGreaterThan(64 * 1024);
    expect(report.sha256).toBe(report.expectedSha256);
    const text = await cli(["backup", "verify", "--from", goodKey.slice(GOOD.length), ...s3Flags(s3, GOOD)]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`s3://${s3.bucket}/${goodKey} verifies.`);
    expect(text.stdout).toContain("each present with its size (--deep also checks each sha256)");
  });

  it("a corrupted archive does not verify: exit 1, one JSON document saying why", async () => {
    const run = await cli(["-o", "json", "backup", "verify", "--from", badKey, ...s3Flags(s3, BAD)]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(false);
    expect(report.checksumOk).toBe(false);
    expect(report.problems[0]).toContain("checksum mismatch");
    expect(run.stderr).toContain("does not verify");
    expect(run.stderr).toContain("clouddrove backup list");
  });

  it("an archive without its checksum file is refused as unfinished (exit 2)", async () => {
    const run = await cli(["backup", "verify", "--from", "29990101T000000Z.tar", ...s3Flags(s3, GOOD)]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("has no checksum file");
  });

  it("--dry-run names the archive and reads nothing", async () => {
    const run = await cli(["-o", "json", "backup", "verify", "--dry-run", ...s3Flags(s3, BAD)]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: true, key: badKey, sha256: null });
  });

  it("credentials S3 rejects are exit 4", async () => {
    const run = await cli(["backup", "verify", ...s3Flags(s3, GOOD)], {
      AWS_ACCESS_KEY_ID: "WRONG",
      AWS_SECRET_ACCESS_KEY: "WRONG",
    });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("credentials");
  });
});
