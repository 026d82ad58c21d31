// Backup archive throughput: templates/backup/archive.sh (find | tar | tee + sha256sum | rclone rcat) on
// registry-like data -- random, incompressible blobs in the real docker/registry/v2 layout -- against plain
// `tar -cf - DIR | cat >/dev/null` on the same data (target: at least 80% of it). Then the cost of a second
// backup after new pushes. Medians over several interleaved runs; nothing is asserted.
//
//   CLOUDDROVE_BENCH_BACKUP_MIB   data size in MiB (default 1024)
//   CLOUDDROVE_BENCH_RUNS         runs per measurement (default 3)
//
// The archive goes to two sinks: rclone's local backend on tmpfs (the pipeline's own cost, with a sink as
// fast as memory), and a local S3 server (s3rver, end to end through the S3 protocol; s3rver itself is
// slow, so this line says more about s3rver than about the script). Beside them, the costs no streaming
// archive with a checksum can avoid, each measured alone: splitting the stream to a second reader, sha256
// of it, and the uploader -- together they show how close to plain tar any such pipeline can come here.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { median, printTable, timeRun } from "./lib.mjs";

const MIB = 1024 * 1024;
const ARCHIVE = new URL("../templates/backup/archive.sh", import.meta.url).pathname;

/** Writes images (config + layers + links) until `bytes` of blobs exist; returns the bytes written. */
export function writeRegistryData(root, bytes, name = "bench/app", startTag = 0) {
  const v2 = join(root, "docker/registry/v2");
  const pool = randomBytes(64 * MIB);
  let written = 0;
  let tag = startTag;
  const blob = (content) => {
    const hex = createHash("sha256").update(content).digest("hex");
    const dir = join(v2, "blobs/sha256", hex.slice(0, 2), hex);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "data"), content);
    written += content.length;
    return hex;
  };
  const link = (path, hex) => {
    mkdirSync(join(v2, "repositories", name, path), { recursive: true });
    writeFileSync(join(v2, "repositories", name, path, "link"), `sha256:${hex}`);
  };
  while (written < bytes) {
    // Layer sizes from 256 KiB to 32 MiB, log-uniform, like real images; each one unique (its own prefix).
    const layers = [];
    for (let i = 0; i < 4; i++) {
      const size = Math.floor(256 * 1024 * 2 ** (Math.random() * 7));
      const offset = Math.floor(Math.random() * (pool.length - size));
      layers.push(blob(Buffer.concat([randomBytes(32), pool.subarray(offset, offset + size)])));
    }
    const config = blob(Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", tag })));
    for (const hex of [config, ...layers]) link(`_layers/sha256/${hex}`, hex);
    const manifest = blob(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          config: { digest: `sha256:${config}` },
          layers: layers.map((hex) => ({ digest: `sha256:${hex}` })),
        }),
      ),
    );
    link(`_manifests/revisions/sha256/${manifest}`, manifest);
    link(`_manifests/tags/t${tag}/current`, manifest);
    link(`_manifests/tags/t${tag}/index/sha256/${manifest}`, manifest);
    tag++;
  }
  return { written, nextTag: tag };
}

/**
 * s3rver in its own process: the timings below use spawnSync, which would block an in-process server.
 * Resolves with the endpoint once it listens.
 */
function startS3rver(directory) {
  const modulePath = createRequire(import.meta.url).resolve("s3rver");
  const code = `
    const S3rver = require(${JSON.stringify(modulePath)});
    new S3rver({ address: "127.0.0.1", port: 0, directory: ${JSON.stringify(directory)}, silent: true,
      configureBuckets: [{ name: "bench" }] }).run().then((a) => console.log(a.port));`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (status) => reject(new Error(`s3rver exited with ${status}`)));
    child.stdout.once("data", (chunk) => {
      child.removeAllListeners("exit");
      resolve({ child, endpoint: `http://127.0.0.1:${String(chunk).trim()}` });
    });
  });
}

function archiveEnv(dataDir, sink) {
  const base = {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    RCLONE_CONFIG: "/dev/null",
    DATA_DIR: dataDir,
    BACKUP_PREFIX: "bench/",
  };
  if (sink.kind === "local") {
    // rclone's local backend: the "bucket" is a directory on tmpfs.
    return { ...base, BACKUP_BUCKET: sink.dir, RCLONE_CONFIG_BACKUP_TYPE: "local" };
  }
  return {
    ...base,
    BACKUP_BUCKET: "bench",
    RCLONE_CONFIG_BACKUP_TYPE: "s3",
    RCLONE_CONFIG_BACKUP_PROVIDER: "Other",
    RCLONE_CONFIG_BACKUP_ENV_AUTH: "false",
    RCLONE_CONFIG_BACKUP_ACCESS_KEY_ID: "S3RVER",
    RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY: "S3RVER",
    RCLONE_CONFIG_BACKUP_ENDPOINT: sink.endpoint,
    RCLONE_CONFIG_BACKUP_FORCE_PATH_STYLE: "true",
  };
}

/** One archive.sh run; the archive is removed afterwards so the sink never fills up. */
function timeArchive(dataDir, sink) {
  const env = archiveEnv(dataDir, sink);
  // On the local backend a missing prefix directory is an error (on S3 there are no directories).
  if (sink.kind === "local") mkdirSync(join(sink.dir, "bench"), { recursive: true });
  const ms = timeRun(["sh", ARCHIVE], { env });
  spawnSync("rclone", ["purge", `backup:${env.BACKUP_BUCKET}/bench`], { env });
  return ms;
}

const rate = (bytes, ms) => `${(bytes / MIB / (ms / 1000)).toFixed(0)} MiB/s`;

export async function run() {
  const mib = Number(process.env.CLOUDDROVE_BENCH_BACKUP_MIB ?? 1024);
  const runs = Number(process.env.CLOUDDROVE_BENCH_RUNS ?? 3);
  const work = mkdtempSync(join(tmpdir(), "clouddrove-bench-backup-"));
  const sinkDir = mkdtempSync(join("/dev/shm", "clouddrove-bench-sink-"));
  const s3Dir = mkdtempSync(join(tmpdir(), "clouddrove-bench-s3-"));
  const { child: s3rver, endpoint } = await startS3rver(s3Dir);
  try {
    const data = join(work, "data");
    const first = writeRegistryData(data, mib * MIB);
    const plain = ["sh", "-c", `tar -cf - -C "${data}" docker/registry/v2 | cat >/dev/null`];
    // The same tar into the same sink with nothing of archive.sh's own: what moving the bytes costs.
    const sinkOnly = [
      "sh",
      "-c",
      `tar -cf - -C "${data}" docker/registry/v2 | rclone rcat --ignore-checksum "backup:${sinkDir}/plain.tar" && rm "${sinkDir}/plain.tar"`,
    ];
    // The two costs no streaming archive with a checksum can avoid, each alone, to show the ceiling:
    // splitting the stream to a second reader (the checksum's), and hashing it with sha256.
    const splitOnly = [
      "sh",
      "-c",
      `W=$(mktemp -d) && mkfifo "$W/f" && { cat "$W/f" >/dev/null & } && tar -cf - -C "${data}" docker/registry/v2 | tee "$W/f" | cat >/dev/null; wait; rm -rf "$W"`,
    ];
    const sha = "$(command -v openssl >/dev/null && echo 'openssl dgst -sha256 -r' || echo sha256sum)";
    const hashOnly = ["sh", "-c", `tar -cf - -C "${data}" docker/registry/v2 | ${sha} >/dev/null`];
    const local = { kind: "local", dir: sinkDir };
    const s3 = { kind: "s3", endpoint };

    // Interleaved, so that machine noise hits every line alike. One warm-up run first fills the page cache.
    timeRun(plain);
    const samples = { plain: [], splitOnly: [], hashOnly: [], sinkOnly: [], local: [], s3: [] };
    const sinkEnv = { env: { ...archiveEnv(data, { kind: "local", dir: sinkDir }) } };
    for (let i = 0; i < runs; i++) {
      samples.plain.push(timeRun(plain));
      samples.splitOnly.push(timeRun(splitOnly));
      samples.hashOnly.push(timeRun(hashOnly));
      samples.sinkOnly.push(timeRun(sinkOnly, sinkEnv));
      samples.local.push(timeArchive(data, local));
      samples.s3.push(timeArchive(data, s3));
    }
    const [plainMs, splitMs, hashMs, sinkMs, localMs, s3Ms] = [
      samples.plain,
      samples.splitOnly,
      samples.hashOnly,
      samples.sinkOnly,
      samples.local,
      samples.s3,
    ].map(median);
    const share = (ms) => `${((plainMs / ms) * 100).toFixed(0)}% of plain tar`;
    printTable(
      `backup: archive throughput on ${(first.written / MIB).toFixed(0)} MiB of registry data (median of ${runs})`,
      [
        `tar -cf - | cat >/dev/null          ${plainMs.toFixed(0)} ms  ${rate(first.written, plainMs)}`,
        `tar | tee to a 2nd reader | cat     ${splitMs.toFixed(0)} ms  ${rate(first.written, splitMs)}  ${share(splitMs)} (splitting the stream alone)`,
        `tar | sha256 (one reader)           ${hashMs.toFixed(0)} ms  ${rate(first.written, hashMs)}  ${share(hashMs)} (hashing alone)`,
        `tar | rclone rcat local (tmpfs)     ${sinkMs.toFixed(0)} ms  ${rate(first.written, sinkMs)}  ${share(sinkMs)} (the uploader alone)`,
        `archive.sh -> rclone local (tmpfs)  ${localMs.toFixed(0)} ms  ${rate(first.written, localMs)}  ${share(localMs)} (target >= 80%)`,
        `archive.sh -> s3rver (S3 protocol)  ${s3Ms.toFixed(0)} ms  ${rate(first.written, s3Ms)}  ${share(s3Ms)}`,
      ],
    );

    // A second backup after new pushes: archive.sh writes a full archive each run, so its cost follows
    // the total data, not the new data.
    const rows = [
      `first backup        ${(first.written / MIB).toFixed(0)} MiB total: ${localMs.toFixed(0)} ms`,
    ];
    let total = first.written;
    let nextTag = first.nextTag;
    for (const percent of [10, 50]) {
      const added = writeRegistryData(
        data,
        (first.written * percent) / 100 - (total - first.written),
        "bench/app",
        nextTag,
      );
      total += added.written;
      nextTag = added.nextTag;
      const ms = median(Array.from({ length: runs }, () => timeArchive(data, local)));
      rows.push(
        `after +${String(percent).padEnd(2)}% new data ${(total / MIB).toFixed(0)} MiB total: ${ms.toFixed(0)} ms ` +
          `(${(ms / localMs).toFixed(2)}x the first; total grew ${(total / first.written).toFixed(2)}x)`,
      );
    }
    printTable("backup: cost of a second backup as new data arrives (archive.sh -> rclone local)", rows);
  } finally {
    s3rver.kill();
    rmSync(work, { recursive: true, force: true });
    rmSync(sinkDir, { recursive: true, force: true });
    rmSync(s3Dir, { recursive: true, force: true });
  }
}

// Run directly (`node bench/backup.mjs`) as well as from bench/run.mjs.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
