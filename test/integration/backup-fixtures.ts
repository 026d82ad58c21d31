/**
 * Helpers for the backup command tests: a small registry data tree laid out exactly as Distribution
 * writes it (one image: config, layer, manifest, links, tag with history), the backup job's scripts run
 * as its container runs them (archive.sh against that tree into s3rver), and the CLI flags and environment that point `clouddrove backup` at s3rver.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { expect } from "vitest";
import type { S3Server } from "../support/s3-server.js";

const SCRIPTS = new URL("../../templates/backup/", import.meta.url).pathname;

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

async function put(path: string, content: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

/** One repository with one tagged image, as the registry stores it under `root`. */
export async function writeRegistryData(root: string, repo = "library/app", tag = "1.0"): Promise<void> {
  const v2 = join(root, "docker/registry/v2");
  const blob = (hex: string) => join(v2, "blobs/sha256", hex.slice(0, 2), hex, "data");
  const layer = randomBytes(64 * 1024);
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers" } }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        size: config.length,
        digest: `sha256:${sha256(config)}`,
      },
      layers: [
        {
          mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
          size: layer.length,
          digest: `sha256:${sha256(layer)}`,
        },
      ],
    }),
  );
  const repoDir = join(v2, "repositories", repo);
  for (const content of [layer, config, manifest]) await put(blob(sha256(content)), content);
  for (const content of [layer, config]) {
    await put(join(repoDir, "_layers/sha256", sha256(content), "link"), `sha256:${sha256(content)}`);
  }
  const m = sha256(manifest);
  await put(join(repoDir, "_manifests/revisions/sha256", m, "link"), `sha256:${m}`);
  await put(join(repoDir, "_manifests/tags", tag, "current/link"), `sha256:${m}`);
  await put(join(repoDir, "_manifests/tags", tag, "index/sha256", m, "link"), `sha256:${m}`);
}

export interface ArchiveRun {
  code: number | null;
  stderr: string;
  key: string;
  bytes: number;
  sha256: string;
}

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** key=value pairs of the last stdout line. */
  result: Record<string, string>;
}

/**
 * Runs one of the backup job's scripts (templates/backup/) against s3rver with only what the job's
 * container has: PATH, HOME, rclone's remote for the bucket, and `env` (no AWS_* or proxy settings of
 * this machine leak in). `shell` runs it (default dash), `path` is its PATH (default this process's).
 */
export async function runBackupScript(
  s3: S3Server,
  script: "archive.sh" | "restore.sh",
  options: { home: string; env: Record<string, string>; args?: string[]; shell?: string; path?: string },
): Promise<ScriptRun> {
  const child = spawn(options.shell ?? "/bin/dash", [join(SCRIPTS, script), ...(options.args ?? [])], {
    env: {
      PATH: options.path ?? process.env.PATH ?? "/usr/bin:/bin",
      HOME: options.home,
      RCLONE_CONFIG: "/dev/null",
      ...s3.rcloneEnv(),
      BACKUP_BUCKET: s3.bucket,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const last = stdout.trim().split("\n").at(-1) ?? "";
  const result = Object.fromEntries(
    last.split(" ").flatMap((pair) => (pair.includes("=") ? [pair.split("=", 2)] : [])),
  );
  return { code, stdout, stderr, result };
}

/** The real archive.sh (under dash, with Debian's rclone and GNU tar) from `dataDir` into s3rver. */
export async function runArchiveScript(s3: S3Server, dataDir: string, prefix: string): Promise<ArchiveRun> {
  const { code, stderr, result } = await runBackupScript(s3, "archive.sh", {
    home: dataDir,
    env: { BACKUP_PREFIX: prefix, DATA_DIR: dataDir },
  });
  return { code, stderr, key: result.key ?? "", bytes: Number(result.bytes), sha256: result.sha256 ?? "" };
}

/** Flips one byte in the middle of an object as s3rver stores it: the archive no longer matches its .sha256. */
export async function corruptObject(s3: S3Server, key: string): Promise<void> {
  const file = await open(s3.objectPath(key), "r+");
  try {
    const { size } = await file.stat();
    const at = Math.floor(size / 2);
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, at);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    await file.write(byte, 0, 1, at);
  } finally {
    await file.close();
  }
}

/** Where the two archives of writeGoodAndBadArchives go: one that verifies, one corrupted. */
export const GOOD = "good/";
export const BAD = "bad/";

/**
 * One small registry (under `dataDir`) archived twice into s3rver by the real archive.sh: under GOOD an
 * archive that verifies, under BAD one with a byte flipped after its checksum was written.
 */
export async function writeGoodAndBadArchives(
  s3: S3Server,
  dataDir: string,
): Promise<{ goodKey: string; badKey: string }> {
  await writeRegistryData(dataDir);
  const good = await runArchiveScript(s3, dataDir, GOOD);
  expect(good.stderr).not.toMatch(/FAILED/);
  expect(good.code).toBe(0);
  const bad = await runArchiveScript(s3, dataDir, BAD);
  expect(bad.code).toBe(0);
  await corruptObject(s3, bad.key);
  return { goodKey: good.key, badKey: bad.key };
}

/** Flags that point the backup settings at s3rver. */
export function s3Flags(s3: S3Server, prefix: string): string[] {
  return [
    "--backup-bucket",
    s3.bucket,
    "--backup-prefix",
    prefix,
    "--backup-region",
    s3.region,
    "--backup-endpoint",
    s3.endpoint,
  ];
}

/** s3rver's fixed keys, as the CLI reads them from the environment. */
export function s3Env(s3: S3Server): NodeJS.ProcessEnv {
  return { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
}
