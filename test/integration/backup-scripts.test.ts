/**
 * The SAME archive.sh and restore.sh the backup job runs, with real tools (Debian's rclone, GNU tar,
 * sha256sum; under dash, and under busybox sh with busybox's userland), against the data of a real
 * registry (Debian's docker-registry 2.8.2 started from the rendered config) and a local S3 server:
 * archive; wipe; restore; the registry serves exactly the same tags and digests, every blob's sha256
 * checked. Also: an archive taken while pushes are in progress restores complete; a corrupted archive is
 * refused by verify.ts and by restore.sh with the live data untouched; a tag moved during the backup is
 * settled on its previous manifest.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  finishUpload,
  getBlob,
  getManifest,
  listTags,
  MEDIA_TYPES,
  pushBlob,
  pushRandomImage,
  putManifest,
  type RegistryEndpoint,
  sha256Digest,
  startUpload,
  uploadChunk,
} from "../../src/adapters/registry.js";
import { blobKey, openBackupBucket } from "../../src/adapters/s3.js";
import { resolveConfig } from "../../src/config/resolve.js";
import { readTar } from "../../src/core/backup/tar-reader.js";
import { verifyArchive } from "../../src/core/backup/verify.js";
import { renderManifests } from "../../src/core/render/index.js";
import {
  type RegistryProcess,
  type ReplicaSpec,
  replicaSpec,
  startRegistry,
} from "../support/registry-process.js";
import { type S3Server, startS3Server } from "../support/s3-server.js";
import { corruptObject, runBackupScript, type ScriptRun } from "./backup-fixtures.js";

const PASSWORD = "backup-test-password";
const REPOS = ["library/app", "team/tools/cli", "team/multi"];

let s3: S3Server;
let replica: ReplicaSpec;
let work: string;
let busyboxPath: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "clouddrove-backup-it-"));
  s3 = await startS3Server();
  const config = resolveConfig({
    // Plain HTTP: TLS is proven by registry-tls.test.ts.
    set: ["storage.efs.fileSystemId=fs-0123456789abcdef0", "tls.mode=insecure-http"],
  }).config;
  const objects = await renderManifests(config, {
    username: "clouddrove",
    password: PASSWORD,
    httpSecret: randomBytes(16).toString("hex"),
    htpasswd: `clouddrove:${bcrypt.hashSync(PASSWORD, 4)}`,
  });
  replica = replicaSpec(objects);
  busyboxPath = await busyboxUserland();
});

afterAll(async () => {
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * A PATH like the job image's: busybox applets (Alpine's rclone/rclone image is busybox) plus rclone.
 * tar stays GNU: Debian's busybox is built without tar -T, which Alpine's has.
 */
async function busyboxUserland(): Promise<string> {
  const dir = join(work, "busybox-bin");
  await mkdir(dir);
  const applets =
    "sh awk cat cut date find grep head id kill ls mkdir mkfifo mktemp mv nproc printf rm rmdir sed sha256sum sleep sort stat tee tr wc xargs";
  for (const applet of applets.split(" ")) await symlink("/bin/busybox", join(dir, applet));
  await symlink("/usr/bin/tar", join(dir, "tar"));
  await symlink("/usr/bin/rclone", join(dir, "rclone"));
  return dir;
}

/** This machine's tools, with busybox's tar in place of GNU tar (the job image's tar is busybox's). */
async function busyboxTarPath(): Promise<string> {
  const dir = join(work, "busybox-tar");
  await mkdir(dir, { recursive: true });
  await symlink("/bin/busybox", join(dir, "tar")).catch(() => {});
  return `${dir}:${process.env.PATH}`;
}

function runTool(command: string, args: string[], input?: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH, RCLONE_CONFIG: "/dev/null", ...s3.rcloneEnv() },
      stdio: ["pipe", "ignore", "inherit"],
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
    child.stdin.end(input);
  });
}

/** Puts an object into the test bucket as a backup job would (rclone rcat). */
const putObject = (key: string, content: Buffer | string) =>
  runTool("rclone", ["rcat", `backup:${s3.bucket}/${key}`], content);

type Shell = "dash" | "busybox";

/** A backup script under `shell`: dash with this machine's tools, or busybox sh with busybox's userland. */
function runScript(
  script: "archive.sh" | "restore.sh",
  shell: Shell,
  env: Record<string, string>,
  args: string[] = [],
): Promise<ScriptRun> {
  return runBackupScript(s3, script, {
    home: work,
    env,
    args,
    ...(shell === "busybox" ? { shell: join(busyboxPath, "sh"), path: busyboxPath } : {}),
  });
}

const endpoint = (registry: RegistryProcess): RegistryEndpoint => ({
  baseUrl: registry.baseUrl,
  username: "clouddrove",
  password: PASSWORD,
});

/** A registry with a single-arch image in two tags, a nested repository and a multi-arch index. */
async function pushImages(e: RegistryEndpoint): Promise<void> {
  await pushRandomImage(e, "library/app", "1.0", { layers: 2, layerSize: 200_000 });
  await pushRandomImage(e, "library/app", "1.1", { layers: 1, layerSize: 150_000 });
  await pushRandomImage(e, "team/tools/cli", "latest", { layers: 3, layerSize: 100_000 });
  const amd = await pushRandomImage(e, "team/multi", "amd64", { layers: 1, layerSize: 50_000 });
  const arm = await pushRandomImage(e, "team/multi", "arm64", { layers: 1, layerSize: 50_000 });
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      {
        mediaType: MEDIA_TYPES.manifestV2,
        digest: amd.manifestDigest,
        size: 1,
        platform: { architecture: "amd64", os: "linux" },
      },
      {
        mediaType: MEDIA_TYPES.manifestV2,
        digest: arm.manifestDigest,
        size: 1,
        platform: { architecture: "arm64", os: "linux" },
      },
    ],
  });
  await putManifest(e, "team/multi", "latest", index, MEDIA_TYPES.ociIndex);
}

/**
 * Every tag of the repositories with the digest it serves; every manifest (index children too) and every
 * blob is fetched, and getBlob checks each blob's sha256 against its digest.
 */
async function servedContent(
  e: RegistryEndpoint,
  repos: string[],
): Promise<{ tags: Record<string, string>; blobs: number }> {
  const tags: Record<string, string> = {};
  let blobs = 0;
  const fetchManifest = async (repo: string, ref: string): Promise<string> => {
    const manifest = await getManifest(e, repo, ref);
    expect(sha256Digest(Buffer.from(manifest.body))).toBe(manifest.digest);
    const body = JSON.parse(manifest.body) as {
      manifests?: { digest: string }[];
      config?: { digest: string };
      layers?: { digest: string }[];
    };
    for (const child of body.manifests ?? []) await fetchManifest(repo, child.digest);
    for (const blob of [...(body.config ? [body.config] : []), ...(body.layers ?? [])]) {
      await getBlob(e, repo, blob.digest);
      blobs++;
    }
    return manifest.digest;
  };
  for (const repo of repos) {
    let repoTags: string[] = [];
    try {
      repoTags = await listTags(e, repo);
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
    }
    for (const tag of repoTags.sort()) tags[`${repo}:${tag}`] = await fetchManifest(repo, tag);
  }
  return { tags, blobs };
}

/** Path -> sha256 of every file under dir (the proof that "nothing changed"). */
async function treeDigest(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    result[path.slice(dir.length)] = createHash("sha256")
      .update(await readFile(path))
      .digest("hex");
  }
  return result;
}

async function withRegistry<T>(root: string, run: (e: RegistryEndpoint) => Promise<T>): Promise<T> {
  const registry = await startRegistry({ replica, rootDirectory: root });
  try {
    return await run(endpoint(registry));
  } finally {
    await registry.stop();
  }
}

function openTestBucket(prefix: string) {
  return openBackupBucket({
    bucket: s3.bucket,
    prefix,
    region: s3.region,
    endpoint: s3.endpoint,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
}

async function archivedPaths(key: string): Promise<string[]> {
  const bucket = await openTestBucket("");
  try {
    const paths: string[] = [];
    await readTar(await bucket.readObject(key), (entry) => {
      paths.push(entry.path);
      return undefined;
    });
    return paths;
  } finally {
    bucket.close();
  }
}

/** hex -> bytes of every blob file on the volume under root. */
async function blobFiles(root: string): Promise<Map<string, number>> {
  const blobs = new Map<string, number>();
  const dir = join(root, "docker/registry/v2/blobs/sha256");
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name !== "data") continue;
    const hex = entry.parentPath.split("/").at(-1) as string;
    blobs.set(hex, (await stat(join(entry.parentPath, entry.name))).size);
  }
  return blobs;
}

const sum = (blobs: Map<string, number>): number => [...blobs.values()].reduce((a, b) => a + b, 0);

/** verify.ts on a snapshot in the bucket, its blobs checked in the bucket (hashed too with deep). */
async function verifySnapshot(
  bucket: Awaited<ReturnType<typeof openTestBucket>>,
  key: string,
  deep: boolean,
) {
  return verifyArchive(await bucket.readObject(key), {
    expectedSha256: await bucket.readChecksum(key),
    checkBlobDigests: deep,
    blobStore: bucket.blobStore(),
  });
}

describe.each<Shell>(["dash", "busybox"])("archive.sh and restore.sh under %s", (shell) => {
  it("archive; wipe; restore: the registry serves exactly the same tags and digests", async () => {
    const root = await mkdtemp(join(work, `root-${shell}-`));
    const prefix = `roundtrip-${shell}/`;
    const before = await withRegistry(root, async (e) => {
      await pushImages(e);
      return servedContent(e, REPOS);
    });
    expect(Object.keys(before.tags)).toHaveLength(6);

    const archive = await runScript("archive.sh", shell, { DATA_DIR: root, BACKUP_PREFIX: prefix });
    expect(archive.stderr).not.toMatch(/FAILED/);
    expect(archive.code).toBe(0);
    expect(archive.result.key).toMatch(new RegExp(`^${prefix}\\d{8}T\\d{6}Z\\.tar$`));
    expect(archive.result.sha256).toMatch(/^[a-f0-9]{64}$/);
    // A first backup uploads every blob on the volume; the snapshot itself holds only metadata.
    const onDisk = await blobFiles(root);
    expect(Number(archive.result.blobs)).toBe(onDisk.size);
    expect(Number(archive.result.uploaded)).toBe(onDisk.size);
    expect(Number(archive.result.uploaded_bytes)).toBe(sum(onDisk));
    expect(Number(archive.result.bytes)).toBeLessThan(sum(onDisk) / 4);

    // The S3 adapter lists it as complete, and verify.ts passes it, checksum and every blob included.
    const bucket = await openTestBucket(prefix);
    try {
      const latest = await bucket.resolveArchive("latest");
      expect(latest).toMatchObject({
        key: archive.result.key,
        bytes: Number(archive.result.bytes),
        complete: true,
      });
      const expected = await bucket.readChecksum(latest.key);
      expect(expected).toBe(archive.result.sha256);
      expect(await bucket.blobStore().sizes()).toEqual(onDisk);
      const report = await verifySnapshot(bucket, latest.key, true);
      expect(report.problems).toEqual([]);
      expect(report).toMatchObject({
        ok: true,
        checksumOk: true,
        snapshot: true,
        repositories: REPOS.slice().sort(),
        tags: 6,
        blobs: onDisk.size,
        blobBytes: sum(onDisk),
      });
      expect(report.blobsChecked).toBe(report.blobs);
    } finally {
      bucket.close();
    }

    // The snapshot: metadata and the blob list, no blob content, no unfinished uploads.
    const paths = await archivedPaths(archive.result.key as string);
    expect(paths).toContain("clouddrove-snapshot/blobs");
    expect(paths.some((p) => p.includes("/_manifests/tags/"))).toBe(true);
    expect(paths.some((p) => p.includes("/v2/blobs/"))).toBe(false);
    expect(paths.some((p) => p.includes("_uploads"))).toBe(false);

    // The volume is lost.
    await rm(join(root, "docker"), { recursive: true, force: true });
    const restore = await runScript("restore.sh", shell, { DATA_DIR: root, BACKUP_PREFIX: prefix });
    expect(restore.stderr).not.toMatch(/FAILED|REFUSED/);
    expect(restore.code).toBe(0);
    expect(restore.result).toMatchObject({
      key: archive.result.key,
      sha256: archive.result.sha256,
      repositories: "3",
      tags: "6",
      notes: "0",
      previous: "none",
      blobs: String(onDisk.size),
    });
    expect(await blobFiles(root)).toEqual(onDisk);
    expect((await readdir(root)).sort()).toEqual(["docker"]);

    const after = await withRegistry(root, (e) => servedContent(e, REPOS));
    expect(after).toEqual(before);
  });
});

/** Every object of the bucket under prefix: key -> the mtime of the file s3rver keeps it in. */
async function bucketObjects(prefix: string): Promise<Map<string, number>> {
  const objects = new Map<string, number>();
  const dir = join(s3.directory, s3.bucket, prefix);
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith("._S3rver_object")) continue;
    const path = join(entry.parentPath, entry.name);
    objects.set(
      path.slice(dir.length - prefix.length).replace(/\._S3rver_object$/, ""),
      (await stat(path)).mtimeMs,
    );
  }
  return objects;
}

/** What a restore must give back: every tag's digest as served, and every blob's sha256 on disk. */
async function content(root: string, repos: string[]) {
  const served = await withRegistry(root, (e) => servedContent(e, repos));
  return { tags: served.tags, blobs: await treeDigest(join(root, "docker/registry/v2/blobs")) };
}

describe("incremental snapshots", () => {
  it("a second backup uploads only the new blobs; the latest and the first snapshot each restore their own point in time", async () => {
    const root = await mkdtemp(join(work, "root-incremental-"));
    const prefix = "incremental/";
    const repos = [...REPOS, "library/new"];
    await withRegistry(root, pushImages);
    const first = await runScript("archive.sh", "dash", { DATA_DIR: root, BACKUP_PREFIX: prefix });
    expect(first.code).toBe(0);
    const atFirst = await content(root, repos);
    const blobsAtFirst = await blobFiles(root);
    const objectsAtFirst = await bucketObjects(prefix);

    // About 10% more data, a re-tagged image and a deleted tag.
    await withRegistry(root, async (e) => {
      await pushRandomImage(e, "library/new", "1", {
        layers: 1,
        layerSize: Math.round(sum(blobsAtFirst) / 10),
      });
      const retagged = await getManifest(e, "library/app", "1.1");
      await putManifest(e, "library/app", "1.0", retagged.body, MEDIA_TYPES.manifestV2);
    });
    await rm(join(root, "docker/registry/v2/repositories/team/tools/cli/_manifests/tags/latest"), {
      recursive: true,
    });
    // A blob already in the bucket changed on the volume behind the registry's back: if the second run
    // read or uploaded it again, the bucket's copy would change.
    const [kept, keptSize] = [...blobsAtFirst][0] as [string, number];
    await writeFile(
      join(root, "docker/registry/v2/blobs/sha256", kept.slice(0, 2), kept, "data"),
      Buffer.alloc(keptSize),
    );
    const second = await runScript("archive.sh", "dash", { DATA_DIR: root, BACKUP_PREFIX: prefix });
    expect(second.stderr).not.toMatch(/FAILED/);
    expect(second.code).toBe(0);
    const blobsAtSecond = await blobFiles(root);
    const added = new Map([...blobsAtSecond].filter(([hex]) => !blobsAtFirst.has(hex)));
    expect(added.size).toBe(3); // the new image's layer, config and manifest
    expect(Number(second.result.uploaded)).toBe(added.size);
    expect(Number(second.result.uploaded_bytes)).toBe(sum(added));
    expect(Number(second.result.blobs)).toBe(blobsAtSecond.size);
    expect(sum(added) / sum(blobsAtFirst)).toBeLessThan(0.15);
    // In the bucket: the old objects untouched, the new blobs and the second snapshot (with its .sha256) added.
    const objectsAtSecond = await bucketObjects(prefix);
    for (const [key, mtime] of objectsAtFirst) expect(objectsAtSecond.get(key)).toBe(mtime);
    const newKeys = [...objectsAtSecond.keys()].filter((key) => !objectsAtFirst.has(key)).sort();
    expect(newKeys).toEqual(
      [
        ...[...added.keys()].map((hex) => blobKey(prefix, hex)),
        second.result.key as string,
        `${second.result.key}.sha256`,
      ].sort(),
    );
    // Put the changed blob back: the volume holds what the registry wrote.
    await writeFile(
      join(root, "docker/registry/v2/blobs/sha256", kept.slice(0, 2), kept, "data"),
      await readFile(s3.objectPath(blobKey(prefix, kept))),
    );
    const atSecond = await content(root, repos);
    expect(atSecond.tags["library/app:1.0"]).toBe(atSecond.tags["library/app:1.1"]);
    expect(atSecond.tags["team/tools/cli:latest"]).toBeUndefined();
    expect(atSecond.tags["library/new:1"]).toBeDefined();

    // The volume is lost: the latest snapshot gives back the second point in time...
    await rm(join(root, "docker"), { recursive: true, force: true });
    const latest = await runScript("restore.sh", "dash", { DATA_DIR: root, BACKUP_PREFIX: prefix });
    expect(latest.stderr).not.toMatch(/FAILED|REFUSED/);
    expect(latest.result).toMatchObject({ key: second.result.key, notes: "0" });
    expect(await content(root, repos)).toEqual(atSecond);
    // ...and the first snapshot, into another directory, the first.
    const older = await mkdtemp(join(work, "root-older-"));
    const firstRestore = await runScript(
      "restore.sh",
      "busybox",
      { DATA_DIR: older, BACKUP_PREFIX: prefix },
      [first.result.key as string],
    );
    expect(firstRestore.stderr).not.toMatch(/FAILED|REFUSED/);
    expect(firstRestore.result).toMatchObject({ key: first.result.key, blobs: String(blobsAtFirst.size) });
    expect(await content(older, repos)).toEqual(atFirst);
    // Several backups, restores and registry starts: minutes on a loaded 2-core machine.
  }, 240_000);
});

/** Writes an object into the test bucket with rclone, as another archive.sh run would. */
async function rcat(key: string, text: string): Promise<void> {
  const child = spawn("rclone", ["rcat", `backup:${s3.bucket}/${key}`], {
    env: { PATH: process.env.PATH, RCLONE_CONFIG: "/dev/null", ...s3.rcloneEnv() },
    stdio: ["pipe", "ignore", "inherit"],
  });
  child.stdin.end(text);
  expect(await new Promise((resolve) => child.on("close", resolve))).toBe(0);
}

/** Deletes an object as s3rver stores it (its content and its metadata). */
async function removeObject(key: string): Promise<void> {
  await rm(s3.objectPath(key));
  await rm(s3.objectPath(key).replace(/_object$/, "_metadata.json"), { force: true });
}

/** A snapshot-style UTC stamp, hoursAgo hours ago. */
const stampHoursAgo = (hoursAgo: number) =>
  new Date(Date.now() - hoursAgo * 3_600_000)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");

describe("retention", () => {
  it("expires snapshots by count, deletes only the blobs no kept snapshot lists, never while another run is going or within the grace period; the kept snapshots restore", async () => {
    const root = await mkdtemp(join(work, "root-retention-"));
    const prefix = "retention/";
    const repos = [...REPOS, "old/gone", "library/b", "library/c"];
    const v2 = join(root, "docker/registry/v2");
    const run = (env: Record<string, string> = {}) =>
      runScript("archive.sh", "dash", { DATA_DIR: root, BACKUP_PREFIX: prefix, ...env });
    await withRegistry(root, pushImages);
    const shared = await blobFiles(root);
    await withRegistry(root, (e) => pushRandomImage(e, "old/gone", "1", { layers: 2, layerSize: 30_000 }));
    const gone = new Map([...(await blobFiles(root))].filter(([hex]) => !shared.has(hex)));
    const first = await run();
    expect(first.code).toBe(0);
    expect(first.result).toMatchObject({ expired: "0", swept: "0" });

    // As a garbage collection would: old/gone and its blobs leave the volume.
    await rm(join(v2, "repositories/old"), { recursive: true });
    for (const hex of gone.keys())
      await rm(join(v2, "blobs/sha256", hex.slice(0, 2), hex), { recursive: true });
    await withRegistry(root, (e) => pushRandomImage(e, "library/b", "1"));
    const second = await run();
    expect(second.code).toBe(0);
    const atSecond = await content(root, repos);
    await withRegistry(root, (e) => pushRandomImage(e, "library/c", "1"));
    const atThird = await content(root, repos);

    // Keep the newest 2 (by count only): the first snapshot expires, but its blobs were uploaded
    // within the grace period, so none is deleted yet.
    const third = await run({ BACKUP_KEEP_LAST: "2", BACKUP_RETENTION_DAYS: "0" });
    expect(third.stderr).not.toMatch(/FAILED|WARNING/);
    expect(third.result).toMatchObject({ expired: "1", swept: "0" });
    const names = [...(await bucketObjects(prefix)).keys()].filter((key) => !key.includes("/blobs/"));
    expect(names.sort()).toEqual(
      [second, third].flatMap((r) => [r.result.key as string, `${r.result.key}.sha256`]).sort(),
    );

    const prune = (env: Record<string, string> = {}) =>
      run({ BACKUP_PRUNE_ONLY: "true", BACKUP_KEEP_LAST: "2", BACKUP_RETENTION_DAYS: "0", ...env });
    // Another run announced a moment ago: no blob is deleted, even with no grace period.
    const announced = `${prefix}running/${stampHoursAgo(0)}`;
    await rcat(announced, "another run");
    const blocked = await prune({ BACKUP_PRUNE_GRACE_SECONDS: "0" });
    expect(blocked.code).toBe(0);
    expect(blocked.stderr).toContain("blobs not swept: another backup run is going on");
    expect(blocked.result).toMatchObject({ expired: "0", swept: "0" });
    // An announcement older than the Job's deadline is a run that died: it no longer holds the sweep.
    await removeObject(announced);
    await rcat(`${prefix}running/${stampHoursAgo(7)}`, "a run that died");
    const swept = await prune({ BACKUP_PRUNE_GRACE_SECONDS: "0" });
    expect(swept.stderr).not.toMatch(/FAILED|WARNING/);
    expect(swept.result).toMatchObject({
      expired: "0",
      swept: String(gone.size),
      swept_bytes: String(sum(gone)),
    });
    // Exactly the blobs of the volume are left: every blob a kept snapshot lists, nothing else.
    const left = await openTestBucket(prefix);
    try {
      expect(await left.blobStore().sizes()).toEqual(await blobFiles(root));
      for (const kept of [second, third]) {
        expect((await verifySnapshot(left, kept.result.key as string, true)).problems).toEqual([]);
      }
    } finally {
      left.close();
    }

    // Both kept snapshots restore their own point in time.
    for (const [kept, expected] of [
      [second, atSecond],
      [third, atThird],
    ] as const) {
      const into = await mkdtemp(join(work, "root-retained-"));
      const restore = await runScript("restore.sh", "dash", { DATA_DIR: into, BACKUP_PREFIX: prefix }, [
        kept.result.key as string,
      ]);
      expect(restore.stderr).not.toMatch(/FAILED|REFUSED/);
      expect(await content(into, repos)).toEqual(expected);
    }
    // Several backups, restores and registry starts: minutes on a loaded 2-core machine.
  }, 240_000);

  it("a run in which no snapshot expires skips the sweep (a prune-only run does it); a run whose blob upload fails leaves no snapshot behind", async () => {
    const root = await mkdtemp(join(work, "root-skip-sweep-"));
    const prefix = "skip-sweep/";
    const run = (env: Record<string, string> = {}, path?: string) =>
      runBackupScript(s3, "archive.sh", {
        home: work,
        env: { DATA_DIR: root, BACKUP_PREFIX: prefix, BACKUP_PRUNE_GRACE_SECONDS: "0", ...env },
        ...(path ? { path } : {}),
      });
    await withRegistry(root, (e) => pushRandomImage(e, "library/a", "1", { layers: 1, layerSize: 20_000 }));
    expect((await run()).code).toBe(0);
    // A blob no snapshot lists, as a run that failed after uploading leaves behind.
    const orphan = randomBytes(1000);
    const hex = createHash("sha256").update(orphan).digest("hex");
    await putObject(`${prefix}blobs/sha256/${hex.slice(0, 2)}/${hex}/data`, orphan);

    const nothingExpired = await run();
    expect(nothingExpired.code).toBe(0);
    expect(nothingExpired.stderr).toContain("no snapshot expired");
    expect(nothingExpired.result).toMatchObject({ expired: "0", swept: "0" });
    const pruned = await run({ BACKUP_PRUNE_ONLY: "true" });
    expect(pruned.result).toMatchObject({ expired: "0", swept: "1", swept_bytes: "1000" });

    // rclone fails the blob upload (and only that): the snapshot uploaded beside it is removed again.
    const bin = await mkdtemp(join(work, "failing-rclone-"));
    const realRclone = execFileSync("sh", ["-c", "command -v rclone"], { encoding: "utf8" }).trim();
    await writeFile(
      join(bin, "rclone"),
      `#!/bin/sh\ncase "$*" in *missing.paths*) echo "upload refused" >&2; exit 1 ;; esac\nexec ${realRclone} "$@"\n`,
      { mode: 0o755 },
    );
    await withRegistry(root, (e) => pushRandomImage(e, "library/a", "2", { layers: 1, layerSize: 20_000 }));
    const snapshots = async () =>
      [...(await bucketObjects(prefix)).keys()].filter((key) => !key.includes("/blobs/")).sort();
    const before = await snapshots();
    const failed = await run({}, `${bin}:${process.env.PATH}`);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain("uploading the new blobs");
    expect(await snapshots()).toEqual(before);
  }, 120_000);
});

describe("two runs at once", () => {
  it("each writes its own complete snapshot under its own name, and no announcement is left", async () => {
    const root = await mkdtemp(join(work, "root-concurrent-"));
    const prefix = "concurrent/";
    await withRegistry(root, pushImages);
    const run = () => runScript("archive.sh", "dash", { DATA_DIR: root, BACKUP_PREFIX: prefix });
    // Started together: they announce themselves in the same second, see each other, and part.
    const [a, b] = await Promise.all([run(), run()]);
    expect([a.code, b.code], `${a.stderr}\n${b.stderr}`).toEqual([0, 0]);
    expect(a.result.key).not.toBe(b.result.key);
    const objects = [...(await bucketObjects(prefix)).keys()].filter((key) => !key.includes("/blobs/"));
    expect(objects.sort()).toEqual(
      [a, b].flatMap((r) => [r.result.key as string, `${r.result.key}.sha256`]).sort(),
    );
    const bucket = await openTestBucket(prefix);
    try {
      for (const r of [a, b])
        expect((await verifySnapshot(bucket, r.result.key as string, true)).problems).toEqual([]);
    } finally {
      bucket.close();
    }
  });
});

describe("archive.sh fails loudly", () => {
  it("without registry data, naming the storage root to check", async () => {
    const empty = await mkdtemp(join(work, "empty-"));
    const run = await runScript("archive.sh", "dash", { DATA_DIR: empty, BACKUP_PREFIX: "empty/" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`FAILED: no registry data in ${empty}/docker/registry/v2`);
    expect(run.stdout).toBe("");
  });

  it("without a bucket, and when S3 cannot be reached", async () => {
    const root = await mkdtemp(join(work, "root-unreachable-"));
    await mkdir(join(root, "docker/registry/v2/repositories"), { recursive: true });
    await mkdir(join(root, "docker/registry/v2/blobs"), { recursive: true });
    const noBucket = await runScript("archive.sh", "busybox", { DATA_DIR: root, BACKUP_BUCKET: "" });
    expect(noBucket.code).toBe(1);
    expect(noBucket.stderr).toContain("BACKUP_BUCKET is not set");
    const unreachable = await runScript("archive.sh", "busybox", {
      DATA_DIR: root,
      RCLONE_CONFIG_BACKUP_ENDPOINT: "http://127.0.0.1:9",
      RCLONE_RETRIES: "1",
      RCLONE_LOW_LEVEL_RETRIES: "1",
    });
    expect(unreachable.code).toBe(1);
    // The first request of a run is its announcement (before it lists the bucket).
    expect(unreachable.stderr).toMatch(
      /FAILED: cannot write s3:\/\/clouddrove-test\/clouddrove\/running\/\d{8}T\d{6}Z-[0-9a-f]{8} \(bucket, region and credentials right\?\)/,
    );
    expect(unreachable.stdout).toBe("");
  });
});

describe("consistency and refusal", () => {
  it("an archive taken while pushes are in progress restores to a registry whose every manifest is complete", async () => {
    const root = await mkdtemp(join(work, "root-busy-"));
    const prefix = "busy/";
    const registry = await startRegistry({ replica, rootDirectory: root });
    const e = endpoint(registry);
    let archive: ScriptRun;
    let before: Record<string, string>;
    const pushed: string[] = [];
    try {
      await pushImages(e);
      before = (await servedContent(e, REPOS)).tags;
      // An upload half done when the backup starts...
      const layer = randomBytes(300_000);
      let location = await startUpload(e, "library/app");
      location = await uploadChunk(e, location, layer.subarray(0, 100_000), 0);
      // ...and new images pushed all the while the backup runs.
      let running = true;
      const pushing = (async () => {
        for (let i = 0; running; i++) {
          await pushRandomImage(e, "busy/repo", `t${i}`, { layers: 2, layerSize: 20_000 });
          pushed.push(`busy/repo:t${i}`);
        }
      })();
      archive = await runScript("archive.sh", "dash", { DATA_DIR: root, BACKUP_PREFIX: prefix });
      running = false;
      await pushing;
      // The interrupted upload finishes after the backup, and a tag is pushed on top of it.
      location = await uploadChunk(e, location, layer.subarray(100_000), 100_000);
      await finishUpload(e, location, sha256Digest(layer));
      const config = Buffer.from(
        JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
      );
      const configDigest = await pushBlob(e, "library/app", config);
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.manifestV2,
        config: { mediaType: MEDIA_TYPES.imageConfig, size: config.length, digest: configDigest },
        layers: [{ mediaType: MEDIA_TYPES.layer, size: layer.length, digest: sha256Digest(layer) }],
      });
      await putManifest(e, "library/app", "after-backup", manifest, MEDIA_TYPES.manifestV2);
    } finally {
      await registry.stop();
    }
    expect(archive.code).toBe(0);
    expect(pushed.length).toBeGreaterThan(0);
    expect((await archivedPaths(archive.result.key as string)).some((p) => p.includes("_uploads"))).toBe(
      false,
    );

    await rm(join(root, "docker"), { recursive: true, force: true });
    const restore = await runScript("restore.sh", "dash", { DATA_DIR: root, BACKUP_PREFIX: prefix });
    expect(restore.stderr).not.toMatch(/FAILED|REFUSED/);
    expect(restore.code).toBe(0);

    // Every manifest the restored registry has is complete: servedContent fetches each one and every
    // blob it references (and fails on anything missing or corrupt).
    const after = await withRegistry(root, (e2) => servedContent(e2, [...REPOS, "busy/repo"]));
    for (const [tag, digest] of Object.entries(before)) expect(after.tags[tag]).toBe(digest);
    expect(after.tags["library/app:after-backup"]).toBeUndefined();
    for (const tag of Object.keys(after.tags).filter((t) => t.startsWith("busy/")))
      expect(pushed).toContain(tag);
  });

  it("a corrupted snapshot, a corrupted blob and a missing blob: verify finds each, restore.sh refuses, live data untouched", async () => {
    const root = await mkdtemp(join(work, "root-corrupt-"));
    const prefix = "corrupt/";
    await withRegistry(root, pushImages);
    const archive = await runScript("archive.sh", "dash", { DATA_DIR: root, BACKUP_PREFIX: prefix });
    expect(archive.code).toBe(0);
    const key = archive.result.key as string;
    const live = await treeDigest(root);
    const refused = async (expected: RegExp) => {
      const restore = await runScript("restore.sh", "dash", { DATA_DIR: root, BACKUP_PREFIX: prefix }, [key]);
      expect(restore.code).toBe(1);
      expect(restore.stderr).toMatch(expected);
      expect(restore.stderr).toContain("nothing was changed");
      expect(await treeDigest(root)).toEqual(live);
      expect((await readdir(root)).sort()).toEqual(["docker"]);
    };
    const bucket = await openTestBucket(prefix);
    try {
      // A layer blob (the largest) corrupted in the bucket: same size, so only --deep (hashing) sees it.
      const [layer] = [...(await blobFiles(root))].sort((a, b) => b[1] - a[1])[0] as [string, number];
      const layerKey = blobKey(prefix, layer);
      const original = await readFile(s3.objectPath(layerKey));
      await corruptObject(s3, layerKey);
      const shallow = await verifySnapshot(bucket, key, false);
      expect(shallow.problems).toEqual([]);
      const deep = await verifySnapshot(bucket, key, true);
      expect(deep.ok).toBe(false);
      expect(deep.problems).toEqual([expect.stringMatching(new RegExp(`^blob sha256:${layer} is corrupt`))]);
      // (rclone itself refuses to download it where the object's MD5 ETag no longer matches: then it is absent.)
      await refused(
        new RegExp(
          `REFUSED: blobs of the snapshot are missing .* or corrupt there: .*${layer}/data: (FAILED|missing)`,
        ),
      );

      // The same blob missing from the bucket: the shallow verify sees it, and restore.sh refuses.
      await removeObject(layerKey);
      const missing = await verifySnapshot(bucket, key, false);
      expect(missing.problems).toContain(
        `blob sha256:${layer} (${original.length} bytes) is missing from the bucket`,
      );
      await refused(new RegExp(`REFUSED: blobs of the snapshot are missing .*${layer}/data: missing`));

      // The snapshot object itself corrupted: its checksum no longer matches.
      await corruptObject(s3, key);
      const report = await verifySnapshot(bucket, key, false);
      expect(report.checksumOk).toBe(false);
      expect(report.problems[0]).toMatch(/^checksum mismatch/);
      await refused(/REFUSED: checksum mismatch/);
    } finally {
      bucket.close();
    }
  });

  it.each([
    ["GNU tar", "../"],
    ["busybox tar", "../"],
    ["GNU tar", "/"],
  ])(
    "an archive holding a %s-extracted %s path is refused by verify.ts and restore.sh with that reason",
    async (tar, unsafe) => {
      const root = await mkdtemp(join(work, "root-unsafe-"));
      const prefix = "unsafe/";
      await withRegistry(root, pushImages);
      // A registry layout, plus one member whose name climbs out of (or starts above) the storage root.
      const made = await mkdtemp(join(work, "unsafe-src-"));
      await mkdir(join(made, "docker/registry/v2/repositories"), { recursive: true });
      await mkdir(join(made, "docker/registry/v2/blobs"), { recursive: true });
      await writeFile(join(made, "escape"), "written outside the storage root\n");
      const name = unsafe === "/" ? "/tmp/clouddrove-escape" : "../clouddrove-escape";
      const tarFile = join(made, "archive.tar");
      await runTool("tar", [
        "-c",
        "-P",
        "-f",
        tarFile,
        "-C",
        made,
        `--transform=s,^escape$,${name},`,
        "docker",
        "escape",
      ]);
      const bytes = await readFile(tarFile);
      const key = `${prefix}20250101T000000Z.tar`;
      await putObject(key, bytes);
      await putObject(
        `${key}.sha256`,
        `${createHash("sha256").update(bytes).digest("hex")}  20250101T000000Z.tar\n`,
      );

      const report = await verifyArchive(
        (async function* () {
          yield bytes;
        })(),
      );
      expect(report.ok).toBe(false);
      expect(report.problems).toContain(
        `the archive holds the path "${name}": absolute paths and ".." would write outside the registry's directory on a restore; refusing it`,
      );

      const live = await treeDigest(root);
      const path = tar === "busybox tar" ? await busyboxTarPath() : undefined;
      const restore = await runBackupScript(s3, "restore.sh", {
        home: work,
        env: { DATA_DIR: root, BACKUP_PREFIX: prefix },
        args: [key],
        ...(path ? { path } : {}),
      });
      expect(restore.code).toBe(1);
      expect(restore.stderr).toMatch(
        /REFUSED: the archive holds absolute or '\.\.' paths, which would write outside/,
      );
      expect(restore.stderr).not.toContain("is the volume full");
      expect(await treeDigest(root)).toEqual(live);
      expect((await readdir(root)).sort()).toEqual(["docker"]);
      expect(await readdir(work)).not.toContain("clouddrove-escape");
    },
  );

  it("restore settles a tag moved during the backup, ignores incomplete archives, and keeps or removes the old data", async () => {
    const root = await mkdtemp(join(work, "root-settle-"));
    const prefix = "settle/";
    const before = await withRegistry(root, async (e) => {
      await pushImages(e);
      return servedContent(e, REPOS);
    });
    // As if, while the backup ran, library/app:1.0 was moved to a manifest pushed too late to be archived,
    // and a first push of library/app:new got only as far as its tag link.
    const tags = join(root, "docker/registry/v2/repositories/library/app/_manifests/tags");
    const late = `sha256:${"c".repeat(64)}`;
    await writeFile(join(tags, "1.0/current/link"), late);
    await mkdir(join(tags, "1.0/index/sha256", "c".repeat(64)), { recursive: true });
    await writeFile(join(tags, "1.0/index/sha256", "c".repeat(64), "link"), late);
    await mkdir(join(tags, "new/current"), { recursive: true });
    await writeFile(join(tags, "new/current/link"), "");
    const archive = await runScript("archive.sh", "busybox", { DATA_DIR: root, BACKUP_PREFIX: prefix });
    expect(archive.code).toBe(0);
    // A newer archive whose run never finished (no .sha256) must not be taken for the latest.
    const bogus = spawn("rclone", ["rcat", `backup:${s3.bucket}/${prefix}29991231T235959Z.tar`], {
      env: { PATH: process.env.PATH, RCLONE_CONFIG: "/dev/null", ...s3.rcloneEnv() },
      stdio: ["pipe", "ignore", "inherit"],
    });
    bogus.stdin.end("not an archive");
    expect(await new Promise((resolve) => bogus.on("close", resolve))).toBe(0);

    const bucket = await openTestBucket(prefix);
    try {
      const archives = await bucket.listArchives();
      expect(archives.map((a) => [a.key, a.complete])).toEqual([
        [archive.result.key, true],
        [`${prefix}29991231T235959Z.tar`, false],
      ]);
      expect((await bucket.resolveArchive("latest")).key).toBe(archive.result.key);
      const name = (archive.result.key as string).slice(prefix.length);
      expect((await bucket.resolveArchive(name)).key).toBe(archive.result.key);
      await expect(bucket.readChecksum(`${prefix}29991231T235959Z.tar`)).rejects.toThrow(/no checksum file/);
      await expect(bucket.resolveArchive("19990101T000000Z.tar")).rejects.toThrow(/No archive/);
    } finally {
      bucket.close();
    }

    const first = await runScript("restore.sh", "busybox", { DATA_DIR: root, BACKUP_PREFIX: prefix }, [
      "latest",
    ]);
    expect(first.stderr).not.toMatch(/FAILED|REFUSED/);
    expect(first.code).toBe(0);
    expect(first.result).toMatchObject({ key: archive.result.key, tags: "6", notes: "2" });
    expect(first.stderr).toContain("library/app:1.0 was being moved during the backup");
    expect(first.stderr).toContain("library/app:new was being pushed during the backup: left out");
    const previous = first.result.previous as string;
    expect(previous).toMatch(/\/docker\.pre-restore-\d{8}T\d{6}Z$/);
    expect((await stat(join(previous, "registry/v2/blobs"))).isDirectory()).toBe(true);

    expect(await withRegistry(root, (e) => servedContent(e, REPOS))).toEqual(before);

    const second = await runScript("restore.sh", "busybox", {
      DATA_DIR: root,
      BACKUP_PREFIX: prefix,
      RESTORE_KEY: archive.result.key as string,
      RESTORE_REMOVE_OLD: "true",
    });
    expect(second.code).toBe(0);
    expect(second.result.previous).toBe("removed");
    expect((await readdir(root)).sort()).toEqual(["docker", previous.slice(root.length + 1)].sort());
  });
});
