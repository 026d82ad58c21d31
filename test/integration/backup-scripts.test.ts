/**
 * The SAME archive.sh and restore.sh the backup job runs, with real tools (Debian's rclone, GNU tar,
 * sha256sum; under dash, and under busybox sh with busybox's userland), against the data of a real
 * registry (Debian's docker-registry 2.8.2 started from the rendered config) and a local S3 server:
 * archive; wipe; restore; the registry serves exactly the same tags and digests, every blob's sha256
 * checked. Also: an archive taken while pushes are in progress restores complete; a corrupted archive is
 * refused by verify.ts and by restore.sh with the live data untouched; a tag moved during the backup is
 * settled on its previous manifest.
 */
import { spawn } from "node:child_process";
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
import { openBackupBucket } from "../../src/adapters/s3.js";
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
import { runBackupScript, type ScriptRun } from "./backup-fixtures.js";

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
    "sh cat cut date find grep id kill ls mkdir mkfifo mktemp mv printf rm rmdir sha256sum sleep sort tee tr wc";
  for (const applet of applets.split(" ")) await symlink("/bin/busybox", join(dir, applet));
  await symlink("/usr/bin/tar", join(dir, "tar"));
  await symlink("/usr/bin/rclone", join(dir, "rclone"));
  return dir;
}

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
    expect(Number(archive.result.bytes)).toBeGreaterThan(1_000_000);
    expect(archive.result.sha256).toMatch(/^[a-f0-9]{64}$/);

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
      const report = await verifyArchive(await bucket.readObject(latest.key), {
        expectedSha256: expected,
        checkBlobDigests: true,
      });
      expect(report.problems).toEqual([]);
      expect(report).toMatchObject({
        ok: true,
        checksumOk: true,
        repositories: REPOS.slice().sort(),
        tags: 6,
      });
      expect(report.blobsChecked).toBe(report.blobs);
    } finally {
      bucket.close();
    }

    // Uncompressed, repositories before blobs, no unfinished uploads.
    const paths = await archivedPaths(archive.result.key as string);
    const firstBlob = paths.findIndex((p) => p.includes("/v2/blobs/"));
    expect(firstBlob).toBeGreaterThan(0);
    expect(paths.slice(firstBlob).every((p) => p.includes("/v2/blobs/"))).toBe(true);
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
    });
    expect((await readdir(root)).sort()).toEqual(["docker"]);

    const after = await withRegistry(root, (e) => servedContent(e, REPOS));
    expect(after).toEqual(before);
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
    expect(unreachable.stderr).toMatch(/FAILED: cannot list s3:\/\/clouddrove-test\/clouddrove\//);
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

  it("a corrupted archive is refused by verify.ts and by restore.sh, with the live data untouched", async () => {
    const root = await mkdtemp(join(work, "root-corrupt-"));
    const prefix = "corrupt/";
    await withRegistry(root, pushImages);
    const archive = await runScript("archive.sh", "dash", { DATA_DIR: root, BACKUP_PREFIX: prefix });
    expect(archive.code).toBe(0);
    const key = archive.result.key as string;

    // Flip bytes in the middle of the object as S3 stores it (inside a blob's content).
    const objectFile = s3.objectPath(key);
    const bytes = await readFile(objectFile);
    for (let i = 0; i < 16; i++) {
      const at = Math.floor(bytes.length / 2) + i;
      bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    }
    await writeFile(objectFile, bytes);

    const bucket = await openTestBucket(prefix);
    try {
      const report = await verifyArchive(await bucket.readObject(key), {
        expectedSha256: await bucket.readChecksum(key),
        checkBlobDigests: true,
      });
      expect(report.ok).toBe(false);
      expect(report.checksumOk).toBe(false);
      expect(report.problems[0]).toMatch(/^checksum mismatch/);
      expect(report.problems.some((p) => /is corrupt/.test(p))).toBe(true);
    } finally {
      bucket.close();
    }

    const live = await treeDigest(root);
    const restore = await runScript("restore.sh", "dash", { DATA_DIR: root, BACKUP_PREFIX: prefix }, [key]);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toMatch(/REFUSED: checksum mismatch/);
    expect(restore.stderr).toContain("nothing was changed");
    expect(await treeDigest(root)).toEqual(live);
    expect((await readdir(root)).sort()).toEqual(["docker"]);
  });

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
