// Backup cost: templates/backup/archive.sh (incremental: each blob uploaded once, a small snapshot per run)
// on registry-like data -- random, incompressible blobs in the real docker/registry/v2 layout -- side by
// side with what a user would run instead on the same data into the same kind of sink: `rclone copy` of the
// store (incremental by name and size too, but no snapshot: no point in time to restore) and `restic
// backup` (deduplicating, encrypted snapshots). Figures: the first backup, a second after 10% and after 50%
// new data (time and bytes, and each as a share of the first), and a restore of the latest backup against
// `rclone copy` back. Medians over CLOUDDROVE_BENCH_RUNS runs; nothing is asserted.
//
//   CLOUDDROVE_BENCH_BACKUP_MIB   data size in MiB (default 1024)
//   CLOUDDROVE_BENCH_RUNS         runs per measurement (default 3)
//
// The sink is one real S3 server on this machine, the same for all three tools (bench/s3-server.mjs:
// versitygw, built from its Go module by scripts/components.sh, over a directory on tmpfs), each tool in its
// own bucket. Earlier sinks: rclone's local backend on tmpfs (no S3 protocol at all), then s3rver (Node) and
// gofakes3 (Go, in memory), which capped every tool at 20-25 MiB/s and so measured the server.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { median, printTable } from "./lib.mjs";
import { rcloneRemoteEnv, startS3Server } from "./s3-server.mjs";

const MIB = 1024 * 1024;
const ARCHIVE = new URL("../templates/backup/archive.sh", import.meta.url).pathname;
const RESTORE = new URL("../templates/backup/restore.sh", import.meta.url).pathname;

/** Writes images (config + layers + links) until `bytes` of blobs exist; returns the bytes written. */
export function writeRegistryData(root, bytes, name = "bench/app", startTag = 0) {
  const v2 = join(root, "docker/registry/v2");
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
    // Layer sizes from 256 KiB to 32 MiB, log-uniform, like real images; each one random throughout, as
    // compressed layers are (slices of one shared pool would let restic's chunk deduplication shine).
    // The last image's layers are cut to what is left of the budget, so "10% new data" is 10%, not up to
    // a whole image (128 MiB) more.
    const layers = [];
    for (let i = 0; i < 4; i++) {
      const size = Math.floor(256 * 1024 * 2 ** (Math.random() * 7));
      layers.push(blob(randomBytes(Math.min(size, Math.max(1024, bytes - written)))));
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

/** The scripts' environment: rclone's remote "backup" is the benchmark's S3 server, bucket "archive". */
function scriptEnv(server, dataDir) {
  return {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    ...rcloneRemoteEnv(server, "backup"),
    DATA_DIR: dataDir,
    BACKUP_BUCKET: "archive",
    BACKUP_PREFIX: "bench/",
  };
}

/** Runs argv, returning its wall time and its last stdout line's key=value pairs. */
function timed(argv, env) {
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", env, maxBuffer: 64 * MIB });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${argv.join(" ")} exited ${result.status}: ${result.stderr}`);
  const last = result.stdout.trim().split("\n").at(-1) ?? "";
  const fields = Object.fromEntries(
    last.split(" ").flatMap((p) => (p.includes("=") ? [p.split("=", 2)] : [])),
  );
  return { ms, fields };
}

/** Hard-links every file of `from` into `to` (cp -al): new data appears without being written again. */
const linkInto = (from, to) => spawnSync("cp", ["-al", `${from}/.`, to], { stdio: "inherit" });

/** One run: the three tools from empty buckets, through +10% and +50%, then restores. */
async function oneRun(base, extra10, extra50, work) {
  const data = mkdtempSync(join(work, "data-"));
  const server = await startS3Server("/dev/shm");
  const env = scriptEnv(server, data);
  const rcloneEnv = { PATH: process.env.PATH, ...rcloneRemoteEnv(server, "sink") };
  const resticEnv = {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    RESTIC_PASSWORD: "bench",
    RESTIC_CACHE_DIR: join(work, "restic-cache"),
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
  };
  const repo = `s3:${server.endpoint}/restic`;
  const store = join(data, "docker/registry/v2");
  const result = { archive: [], rclone: [], restic: [] };
  try {
    for (const bucket of ["archive", "rclone", "restic"])
      timed(["rclone", "mkdir", `sink:${bucket}`], rcloneEnv);
    timed(["restic", "init", "-q", "-r", repo], resticEnv);
    for (const extra of [undefined, extra10, extra50]) {
      if (extra) linkInto(extra, data);
      else linkInto(base, data);
      const archive = timed(["sh", ARCHIVE], env);
      const copy = timed(["rclone", "copy", store, "sink:rclone"], rcloneEnv);
      const restic = timed(["restic", "backup", "-q", "-r", repo, store], resticEnv);
      result.archive.push({
        ms: archive.ms,
        bytes: Number(archive.fields.uploaded_bytes) + Number(archive.fields.bytes),
      });
      result.rclone.push({ ms: copy.ms, stored: server.bytes("rclone") });
      result.restic.push({ ms: restic.ms, stored: server.bytes("restic") });
    }
    const restoreDir = mkdtempSync(join(work, "restore-"));
    const restore = timed(["sh", RESTORE, "latest"], { ...env, DATA_DIR: restoreDir });
    const back = timed(["rclone", "copy", "sink:rclone", mkdtempSync(join(work, "copy-back-"))], rcloneEnv);
    result.restore = { archive: restore.ms, rclone: back.ms };
  } finally {
    await server.stop();
    rmSync(data, { recursive: true, force: true });
  }
  return result;
}

const rate = (bytes, ms) => `${(bytes / MIB / (ms / 1000)).toFixed(0)} MiB/s`;
const pct = (part, whole) => `${((part / whole) * 100).toFixed(0)}%`;

export async function run() {
  const mib = Number(process.env.CLOUDDROVE_BENCH_BACKUP_MIB ?? 1024);
  const runs = Number(process.env.CLOUDDROVE_BENCH_RUNS ?? 3);
  const work = mkdtempSync(join(tmpdir(), "clouddrove-bench-backup-"));
  try {
    // The data once: the base store, then what 10% and a further 40% of new pushes add (own tags).
    const base = join(work, "base");
    const first = writeRegistryData(base, mib * MIB);
    const extra10 = join(work, "extra10");
    const ten = writeRegistryData(extra10, first.written * 0.1, "bench/app", first.nextTag);
    const extra50 = join(work, "extra50");
    const forty = writeRegistryData(extra50, first.written * 0.4, "bench/app", ten.nextTag);
    const sizes = [first.written, first.written + ten.written, first.written + ten.written + forty.written];
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(await oneRun(base, extra10, extra50, work));
    const med = (pick) => median(samples.map(pick));
    // The generator writes whole images (layers up to 32 MiB), so "10%" and "50%" land somewhat above.
    const phases = sizes.map((size, i) =>
      i === 0 ? "first backup" : `after +${(((size - sizes[0]) / sizes[0]) * 100).toFixed(0)}% data`,
    );
    const rows = [];
    phases.forEach((phase, i) => {
      const a = med((s) => s.archive[i].ms);
      const bytes = med((s) => s.archive[i].bytes);
      const c = med((s) => s.rclone[i].ms);
      const r = med((s) => s.restic[i].ms);
      // What each one added to its sink in this run (the stored size grows by it).
      const added = (tool) => med((s) => s[tool][i].stored - (i === 0 ? 0 : s[tool][i - 1].stored)) / MIB;
      const a0 = med((s) => s.archive[0].ms);
      const b0 = med((s) => s.archive[0].bytes);
      const ratio = i === 0 ? "" : ` = ${pct(a, a0)} of the first's time, ${pct(bytes, b0)} of its bytes`;
      rows.push(
        `${phase.padEnd(16)} ${(sizes[i] / MIB).toFixed(0)} MiB: archive.sh ${a.toFixed(0)} ms, ${(bytes / MIB).toFixed(1)} MiB written${ratio}`,
        `${"".padEnd(16)} rclone copy ${c.toFixed(0)} ms, ${added("rclone").toFixed(1)} MiB (archive.sh at ${pct(c, a)} of its rate); ` +
          `restic backup ${r.toFixed(0)} ms, ${added("restic").toFixed(1)} MiB`,
      );
    });
    const restore = med((s) => s.restore.archive);
    const back = med((s) => s.restore.rclone);
    rows.push(
      `restore latest   restore.sh ${restore.toFixed(0)} ms (${rate(sizes[2], restore)}), rclone copy back ${back.toFixed(0)} ms (${rate(sizes[2], back)}): restore.sh at ${pct(back, restore)} of its rate`,
    );
    printTable(
      `backup: cost per run on ${(first.written / MIB).toFixed(0)} MiB of registry data, into one local S3 server (versitygw on tmpfs; median of ${runs})`,
      rows,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// Run directly (`node bench/backup.mjs`) as well as from bench/run.mjs.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
