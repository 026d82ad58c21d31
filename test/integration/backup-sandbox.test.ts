/**
 * The backup commands against the sandbox as a user runs them (in-process CLI, kubeconfig pointing at a
 * sandbox the test started), with the sandbox's own S3 as the bucket and no AWS credentials but the
 * sandbox's (s3Environment): deploy puts the retention rule on the bucket, renders the CronJob and
 * prunes it when the bucket goes; `backup now` runs the real archive.sh in a Job made from the CronJob's
 * template against the registry's real data, `backup verify` checks that archive and `backup restore`
 * brings the registry back to it (every tag and blob compared through the load balancer); a Job that
 * fails for real is reported with the pod's last log lines; `snapshot` on EBS and EFS; `restore` refuses
 * without a confirmation, refuses an archive that does not verify, and runs its steps in order. The one
 * store without a lifecycle API is s3rver on its own, behind --backup-endpoint.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { down, s3Environment } from "../../sandbox/src/index.js";
import type { KubeObject } from "../../sandbox/src/types.js";
import { sandboxS3Client } from "../../sandbox/test/support/s3-client.js";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import {
  getBlob,
  getManifest,
  listRepositories,
  listTags,
  pushRandomImage,
  type RegistryEndpoint,
} from "../../src/adapters/registry.js";
import { cleanEnv, runCli } from "../support/run-cli.js";
import { rcloneEnv, type S3Server, startS3Server } from "../support/s3-server.js";
import { ScriptedPrompter } from "../support/scripted-prompter.js";
import { BAD, GOOD, s3Env, s3Flags, writeGoodAndBadArchives } from "./backup-fixtures.js";
import {
  loadBalancerUrl,
  PASSWORD,
  readyRegistryPods,
  SANDBOX_DEPLOY,
  until,
  withCredentials,
} from "./sandbox-runtime-support.js";

const NS = "clouddrove";
const ROLE = "arn:aws:iam::123456789012:role/clouddrove-backup";
const BUCKET = "clouddrove-backups";
const REGION = "eu-west-1";

/** A store without the lifecycle API (s3rver alone), for the one test that needs it. */
let plainS3: S3Server;
let work: string;
let sbx: TestSandbox;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "clouddrove-backup-sbx-"));
  plainS3 = await startS3Server();
}, 60_000);
afterAll(async () => {
  await plainS3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});
let stateDir: string;
beforeEach(async () => {
  // A state directory, so that the test knows where the sandbox's S3 keeps its objects on disk.
  stateDir = await mkdtemp(join(work, "state-"));
  sbx = await startTestSandbox({ controllers: true, speed: 200, stateDir });
});
afterEach(async () => {
  await sbx.stop();
});

/** No AWS credentials of this machine: only the sandbox's S3 endpoint and keys. */
const env = () =>
  cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD, ...s3Environment(sbx.sandbox) });
const cli = (args: string[], runEnv = env()) =>
  runCli(["--kubeconfig", sbx.kubeconfigPath, ...args], { env: runEnv });
const bucketFlags = (prefix = GOOD) => [
  "--backup-bucket",
  BUCKET,
  "--backup-prefix",
  prefix,
  "--backup-region",
  REGION,
  "--backup-role-arn",
  ROLE,
];

/** The sandbox's S3 as the archive fixtures reach it (the host's rclone, the sandbox's keys). */
function sandboxS3(): S3Server {
  const { AWS_ACCESS_KEY_ID: accessKeyId = "", AWS_SECRET_ACCESS_KEY: secretAccessKey = "" } = s3Environment(
    sbx.sandbox,
  );
  const endpoint = sbx.sandbox.s3.endpoint;
  const directory = join(stateDir, "s3", "buckets");
  return {
    endpoint,
    bucket: BUCKET,
    directory,
    accessKeyId,
    secretAccessKey,
    region: REGION,
    objectPath: (key) => join(directory, BUCKET, `${key}._S3rver_object`),
    rcloneEnv: () => rcloneEnv({ endpoint, accessKeyId, secretAccessKey, region: REGION }),
    stop: async () => {},
  };
}

const s3Client = () => sandboxS3Client(sbx.sandbox);

/** A good and a corrupted archive in the sandbox's bucket, written by the real archive.sh. */
async function writeArchives(): Promise<{ goodKey: string; badKey: string }> {
  return writeGoodAndBadArchives(sandboxS3(), await mkdtemp(join(work, "data-")));
}

/** Flips one byte in the middle of an object as the sandbox's S3 stores it (again: flips it back). */
function flipByte(key: string): void {
  const path = sandboxS3().objectPath(key);
  const bytes = readFileSync(path);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  writeFileSync(path, bytes);
}

/** A stuck wait fails the test in seconds, not after the default hours. */
const SHORT = ["--timeout", "20s"];
const SCHEDULE = "0 0 1 1 *";

function deploy(extra: string[] = [], runEnv = env()) {
  return cli(
    [
      ...SANDBOX_DEPLOY,
      // The sandbox runs at 200x: a test of 20 s covers over an hour of its clock, so the default daily
      // schedule (03:00 UTC) fired a scheduled backup mid-test whenever one ran between about 02:00 and
      // 03:00, and "backup now" then found every blob already uploaded. New Year's midnight is never near.
      "--backup-schedule",
      SCHEDULE,
      ...extra,
    ],
    runEnv,
  );
}

async function deployWithBucket(prefix = GOOD): Promise<void> {
  const run = await deploy(bucketFlags(prefix));
  expect(run.stderr).not.toContain("Error");
  expect(run.code).toBe(0);
}

/**
 * `backup restore --from latest` from the bucket at `prefix` (GOOD unless told), with a short timeout:
 * `flags` (--confirm, --to-claim, --dry-run) after the command, and `-o json` before it when asked.
 */
function restoreArgs(flags: string[], options: { json?: boolean; prefix?: string } = {}): string[] {
  return [
    ...(options.json ? ["-o", "json"] : []),
    "backup",
    "restore",
    "--from",
    "latest",
    ...flags,
    ...bucketFlags(options.prefix),
    ...SHORT,
  ];
}

const store = () => sbx.sandbox.store;
const jobs = () => store().list("Job", { namespace: NS });
const registryPods = () =>
  store()
    .list("Pod", { namespace: NS })
    .filter((p) => p.metadata.labels?.["app.kubernetes.io/component"] === "registry");

/** A PersistentVolume and a claim in the registry's namespace, of the same name, that names it. */
function createBoundClaim(
  name: string,
  volume: { storage: string; accessModes: string[]; storageClassName: string; csi: Record<string, string> },
): void {
  const { storage, accessModes, storageClassName, csi } = volume;
  store().create({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
      capacity: { storage },
      accessModes,
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName,
      csi,
    },
  });
  store().create({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: NS },
    spec: { accessModes, storageClassName, volumeName: name, resources: { requests: { storage } } },
  });
}

/** The registry's content as clients see it: every repository, tag -> manifest digest, blob -> sha256. */
async function registryContent(e: RegistryEndpoint): Promise<Record<string, unknown>> {
  const content: Record<string, unknown> = {};
  for (const repo of (await listRepositories(e)).sort()) {
    const tags: Record<string, string> = {};
    const blobs: Record<string, string> = {};
    for (const tag of (await listTags(e, repo)).sort()) {
      const manifest = await getManifest(e, repo, tag);
      tags[tag] = manifest.digest;
      const parsed = JSON.parse(manifest.body) as {
        config: { digest: string };
        layers: { digest: string }[];
      };
      for (const { digest } of [parsed.config, ...parsed.layers]) {
        // getBlob checks the bytes against the digest too; the sha256 here is computed from what came back.
        const bytes = await getBlob(e, repo, digest);
        blobs[digest] = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      }
    }
    content[repo] = { tags, blobs };
  }
  return content;
}

/** The registry behind the sandbox's load balancer, once all three replicas are ready. */
async function liveRegistry(): Promise<RegistryEndpoint> {
  await readyRegistryPods(sbx.sandbox);
  return withCredentials(await until("the load balancer address", () => loadBalancerUrl(sbx.sandbox)));
}

describe("deploy with a backup bucket", () => {
  it("puts the retention rule on the sandbox's bucket with the sandbox's keys alone; applies ServiceAccount, scripts and CronJob after the registry objects; prunes them when the bucket goes", async () => {
    const run = await deploy(bucketFlags());
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    const applied = report.objects.map((o: { kind: string; name: string }) => `${o.kind}/${o.name}`);
    expect(applied.slice(-3)).toEqual([
      "ServiceAccount/registry-clouddrove-backup",
      "ConfigMap/registry-clouddrove-backup-scripts",
      "CronJob/registry-clouddrove-backup",
    ]);
    expect(applied.indexOf("Deployment/registry-clouddrove")).toBeLessThan(applied.length - 3);
    expect(report.backup).toMatchObject({
      cronJob: "registry-clouddrove-backup",
      archives: `s3://${BUCKET}/${GOOD}`,
      retentionRule: { action: "created" },
    });
    const lifecycle = await s3Client().send(new GetBucketLifecycleConfigurationCommand({ Bucket: BUCKET }));
    expect(lifecycle.Rules).toEqual([
      expect.objectContaining({
        ID: "clouddrove-backup-retention",
        Status: "Enabled",
        Filter: { Prefix: GOOD },
      }),
    ]);

    const cronJob = store().get("CronJob", NS, "registry-clouddrove-backup") as KubeObject;
    expect(cronJob.spec).toMatchObject({
      schedule: SCHEDULE,
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: { spec: { backoffLimit: 2, activeDeadlineSeconds: 21600 } },
    });
    const pod = cronJob.spec.jobTemplate.spec.template;
    expect(pod.metadata.labels["app.kubernetes.io/component"]).toBe("backup");
    expect(pod.spec.volumes[0]).toEqual({
      name: "data",
      persistentVolumeClaim: { claimName: "registry-clouddrove-data", readOnly: true },
    });
    const container = pod.spec.containers[0];
    const envOf = (name: string) => container.env.find((e: { name: string }) => e.name === name)?.value;
    expect(envOf("BACKUP_BUCKET")).toBe(BUCKET);
    // The endpoint is the sandbox's business (it injects it into the pods, as EKS injects credentials):
    // nothing of it is rendered into the CronJob.
    expect(envOf("RCLONE_CONFIG_BACKUP_ENDPOINT")).toBeUndefined();
    expect(
      store().get("ServiceAccount", NS, "registry-clouddrove-backup")?.metadata.annotations?.[
        "eks.amazonaws.com/role-arn"
      ],
    ).toBe(ROLE);
    const again = await deploy(bucketFlags());
    expect(new Set(JSON.parse(again.stdout).objects.map((o: { action: string }) => o.action))).toEqual(
      new Set(["unchanged"]),
    );

    const without = await deploy();
    expect(without.code).toBe(0);
    const pruned = JSON.parse(without.stdout)
      .objects.filter((o: { action: string }) => o.action === "pruned")
      .map((o: { kind: string; name: string }) => `${o.kind}/${o.name}`)
      .sort();
    expect(pruned).toEqual([
      "ConfigMap/registry-clouddrove-backup-scripts",
      "CronJob/registry-clouddrove-backup",
      "ServiceAccount/registry-clouddrove-backup",
    ]);
    expect(store().get("CronJob", NS, "registry-clouddrove-backup")).toBeUndefined();
    expect(JSON.parse(without.stdout).backup).toBeUndefined();
  });

  it("--dry-run renders the backup objects last; without a bucket there are none", async () => {
    const dryRun = (extra: string[] = []) =>
      cli(["-o", "json", "deploy", "--dry-run", "--efs-file-system-id", "fs-0123456789abcdef0", ...extra]);
    const run = await dryRun(bucketFlags());
    expect(run.code).toBe(0);
    const kinds = JSON.parse(run.stdout).items.map((o: KubeObject) => o.kind);
    expect(kinds.slice(-3)).toEqual(["ServiceAccount", "ConfigMap", "CronJob"]);
    expect(run.stderr).toContain("lifecycle rule clouddrove-backup-retention");
    const plain = await dryRun();
    expect(JSON.parse(plain.stdout).items.map((o: KubeObject) => o.kind)).not.toContain("CronJob");
  });

  it("stops before changing anything when the bucket's store has no lifecycle API", async () => {
    const run = await deploy(
      [...s3Flags(plainS3, GOOD), "--backup-role-arn", ROLE],
      cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD, ...s3Env(plainS3) }),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("does not implement lifecycle rules");
    expect(run.stderr).toContain("--no-retention-rule");
    expect(JSON.parse(run.stdout).steps[0]).toMatchObject({ status: "failed" });
    expect(store().get("Namespace", undefined, NS)).toBeUndefined();
  });
});

describe("backup now, verify and restore, for real", () => {
  it("archives the registry's real data into the sandbox's S3, verifies it, and restores it: every tag and blob as before", async () => {
    await deployWithBucket();
    const registry = await liveRegistry();
    await pushRandomImage(registry, "team/app", "v1", { layers: 2, layerSize: 64 * 1024 });
    await pushRandomImage(registry, "team/app", "v2", { layers: 1, layerSize: 4096 });
    await pushRandomImage(registry, "base/alpine", "3.20", { layers: 3, layerSize: 16 * 1024 });
    const before = await registryContent(registry);
    expect(Object.keys(before)).toEqual(["base/alpine", "team/app"]);

    const run = await cli(["-o", "json", "backup", "now", ...bucketFlags(), ...SHORT]);
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ ok: true, cronJob: "registry-clouddrove-backup", warnings: [] });
    expect(report.job).toMatch(/^registry-clouddrove-backup-now-\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect(report.archive.key).toMatch(/^good\/\d{8}T\d{6}Z\.tar$/);
    expect(report.archive.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.location).toBe(`s3://${BUCKET}/${report.archive.key}`);

    // The Job was made from the CronJob's template and really ran archive.sh: its log ends with the line.
    const cronJob = store().get("CronJob", NS, "registry-clouddrove-backup") as KubeObject;
    const job = store().get("Job", NS, report.job) as KubeObject;
    expect(job.metadata.ownerReferences?.[0]).toMatchObject({ kind: "CronJob", uid: cronJob.metadata.uid });
    expect(job.metadata.annotations?.["cronjob.kubernetes.io/instantiate"]).toBe("manual");
    expect(job.spec.template.spec.containers).toEqual(cronJob.spec.jobTemplate.spec.template.spec.containers);
    const log = await sbx.kubectl("-n", NS, "logs", `job/${report.job}`);
    expect(log.stdout).toContain(`archive: copying the repository metadata of /`);
    const a = report.archive;
    expect(log.stdout.trim().split("\n").at(-1)).toBe(
      `clouddrove-backup key=${a.key} bytes=${a.bytes} seconds=${a.seconds} sha256=${a.sha256} blobs=${a.blobs} blob_bytes=${a.blobBytes} uploaded=${a.uploaded} uploaded_bytes=${a.uploadedBytes} expired=0 swept=0 swept_bytes=0`,
    );
    // The first snapshot into this prefix: every blob is new. 3 images = 3 manifests, 3 configs, 6 layers.
    expect(a).toMatchObject({ blobs: 12, uploaded: 12 });
    expect(a.uploadedBytes).toBe(a.blobBytes);

    // The snapshot and its checksum are in the sandbox's S3, the checksum of exactly those bytes, and
    // beside them every blob once, under blobs/.
    const client = s3Client();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: GOOD }));
    const objects = listed.Contents ?? [];
    expect(
      objects
        .filter((o) => !o.Key?.includes("/blobs/"))
        .map((o) => [o.Key, o.Key === a.key ? o.Size : "sum"]),
    ).toEqual([
      [a.key, a.bytes],
      [`${a.key}.sha256`, "sum"],
    ]);
    const blobObjects = objects.filter((o) => o.Key?.startsWith(`${GOOD}blobs/sha256/`));
    expect(blobObjects).toHaveLength(12);
    expect(blobObjects.reduce((total, o) => total + (o.Size ?? 0), 0)).toBe(a.blobBytes);
    const archive = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: report.archive.key }));
    const bytes = Buffer.from(
      await (archive.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(report.archive.sha256);
    const sum = await client.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: `${report.archive.key}.sha256` }),
    );
    expect(await sum.Body?.transformToString()).toBe(
      `${report.archive.sha256}  ${report.archive.key.slice(GOOD.length)}\n`,
    );

    const verify = await cli(["-o", "json", "backup", "verify", "--from", "latest", ...bucketFlags()]);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({
      ok: true,
      key: report.archive.key,
      checksumOk: true,
      sha256: report.archive.sha256,
      repositories: ["base/alpine", "team/app"],
      tags: 3,
      manifests: 3,
      problems: [],
    });

    // After the backup the registry changes: a new repository, and a tag moved to another image.
    await pushRandomImage(registry, "team/extra", "v1");
    await pushRandomImage(registry, "team/app", "v1", { layers: 1, layerSize: 1024 });
    expect(await registryContent(registry)).not.toEqual(before);

    const restore = await cli(restoreArgs(["--confirm", NS], { json: true }));
    expect(restore.stderr).not.toContain("Error");
    expect(restore.code).toBe(0);
    const restored = JSON.parse(restore.stdout);
    expect(restored).toMatchObject({
      ok: true,
      key: report.archive.key,
      replicas: 3,
      health: { healthy: true },
      restored: {
        key: report.archive.key,
        sha256: report.archive.sha256,
        repositories: 2,
        tags: 3,
        manifests: 3,
      },
    });
    expect(restored.restored.previous).toMatch(/docker\.pre-restore-\d{8}T\d{6}Z$/);
    expect(await registryContent(await liveRegistry())).toEqual(before);
    // A deploy, a backup Job, a deep verify and a restore with its health checks: minutes under load.
  }, 180_000);

  it("reports a Job that fails for real with the pod's last log lines and exit code, exit 1", async () => {
    // Nothing was pushed: the registry's storage holds no repositories yet, and archive.sh says so.
    await deployWithBucket();
    const run = await cli(["-o", "json", "backup", "now", ...bucketFlags(), ...SHORT]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(false);
    const failure = report.failure.join("\n");
    expect(failure).toContain("BackoffLimitExceeded");
    expect(failure).toMatch(/pod registry-clouddrove-backup-now-\S+: exit code 1 \(Error\)/);
    expect(failure).toMatch(/last \d+ log line\(s\) of pod registry-clouddrove-backup-now-/);
    expect(failure).toMatch(/archive: FAILED: no registry data in \S+\/docker\/registry\/v2/);
    expect(run.stderr).toContain(`kubectl -n ${NS} logs job/${report.job}`);
    // Three attempts (backoffLimit 2), each a pod kept for its log.
    expect(
      store()
        .list("Pod", { namespace: NS })
        .filter((p) => p.metadata.labels?.["job-name"] === report.job),
    ).toHaveLength(3);
    const listed = await s3Client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: GOOD }));
    expect(listed.Contents ?? []).toEqual([]);
  });

  it("--dry-run has the server check the Job and creates nothing; no CronJob is exit 2", async () => {
    const missing = await cli(["backup", "now", ...SHORT]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no backup CronJob");
    await deployWithBucket();
    const dry = await cli(["backup", "now", "--dry-run", ...SHORT]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("nothing was changed");
    expect(dry.stdout).toContain("kind: Job");
    expect(jobs()).toEqual([]);
  });
});

describe("backup snapshot", () => {
  it("explains that EFS has no snapshots, names the alternatives, creates nothing (exit 2)", async () => {
    await deployWithBucket();
    const run = await cli(["backup", "snapshot", ...bucketFlags(), ...SHORT]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("EFS does not implement CSI snapshots");
    expect(run.stderr).toContain(`clouddrove backup now: a verified tar archive in s3://${BUCKET}/${GOOD}`);
    expect(run.stderr).toContain("AWS Backup");
    expect(run.stderr).toContain("fs-0123456789abcdef0");
    expect(store().list("VolumeSnapshot", { namespace: NS })).toEqual([]);
    const json = await cli(["-o", "json", "backup", "snapshot", ...SHORT]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ supported: false, driver: "efs.csi.aws.com" });
  });

  it("snapshots an EBS-backed claim and waits until it is ready to use; list shows it", async () => {
    await deployWithBucket();
    await writeArchives();
    createBoundClaim("data-ebs", {
      storage: "20Gi",
      accessModes: ["ReadWriteOnce"],
      storageClassName: "gp3",
      csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-0123456789abcdef0" },
    });
    const run = await cli(["-o", "json", "backup", "snapshot", "--claim", "data-ebs", ...SHORT]);
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      ok: true,
      supported: true,
      driver: "ebs.csi.aws.com",
      snapshotClass: "ebs-csi-snapclass",
      snapshot: { claim: "data-ebs", readyToUse: true, restoreSize: "20Gi" },
    });
    expect(store().get("VolumeSnapshot", NS, report.snapshot.name)?.status.readyToUse).toBe(true);

    const list = await cli(["-o", "json", "backup", "list", "--claim", "data-ebs", ...bucketFlags()]);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout);
    expect(listed.snapshots.map((s: { name: string }) => s.name)).toEqual([report.snapshot.name]);
    expect(listed.archives.length).toBe(1);
  });
});

describe("backup restore", () => {
  let goodKey: string;
  beforeEach(async () => {
    ({ goodKey } = await writeArchives());
  }, 60_000);

  it("refuses without --confirm in CI (exit 2), and with a wrong one, changing nothing", async () => {
    await deployWithBucket();
    const before = store().get("Deployment", NS, "registry-clouddrove")?.metadata.resourceVersion;
    const refused = await cli(restoreArgs([]));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("needs a typed confirmation");
    expect(refused.stderr).toContain(`--confirm ${NS}`);
    const wrong = await cli(restoreArgs(["--confirm", "prod"]));
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("does not match the namespace");
    expect(store().get("Deployment", NS, "registry-clouddrove")?.metadata.resourceVersion).toBe(before);
    expect(jobs()).toEqual([]);
  });

  it("refuses an archive that does not verify before stopping anything", async () => {
    await deployWithBucket(BAD);
    const run = await cli(restoreArgs(["--confirm", NS], { prefix: BAD }));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("does not verify; it was refused");
    expect(run.stderr).toContain("checksum mismatch");
    expect(run.stderr).toContain("Nothing was changed: the registry keeps serving");
    expect(store().get("Deployment", NS, "registry-clouddrove")?.spec.replicas).toBe(3);
    expect(jobs()).toEqual([]);
  });

  it("verifies, stops writes, restores, starts the registry again and checks its health, in that order", async () => {
    await deployWithBucket();
    const events: string[] = [];
    const unsubscribe = [
      store().subscribe("Deployment", (event) => {
        const replicas = event.object.spec?.replicas;
        if (events.at(-1) !== `replicas=${replicas}`) events.push(`replicas=${replicas}`);
      }),
      store().subscribe("Job", (event) => {
        if (event.type === "ADDED")
          events.push(`job ${event.object.metadata.name} (registry pods: ${registryPods().length})`);
      }),
    ];
    const run = await cli(restoreArgs(["--confirm", NS], { json: true }));
    for (const stop of unsubscribe) stop();
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      ok: true,
      key: goodKey,
      replicas: 3,
      health: { healthy: true },
      restored: { key: goodKey, repositories: 1, tags: 1, manifests: 1, notes: 0 },
    });
    expect(report.verified).toMatchObject({ repositories: 1, tags: 1 });
    expect(events).toEqual(["replicas=0", `job ${report.job} (registry pods: 0)`, "replicas=3"]);
    const deployment = store().get("Deployment", NS, "registry-clouddrove") as KubeObject;
    expect(deployment.metadata.annotations?.["clouddrove.io/replicas-before-restore"]).toBeUndefined();
    const job = store().get("Job", NS, report.job) as KubeObject;
    const restoreEnv = job.spec.template.spec.containers[0].env;
    expect(restoreEnv.find((e: { name: string }) => e.name === "RESTORE_KEY").value).toMatch(
      /^good\/\d{8}T\d{6}Z\.tar$/,
    );
    // The registry serves what the archive holds: the fixture's one image.
    const registry = await liveRegistry();
    expect(await listRepositories(registry)).toEqual(["library/app"]);
    expect(await listTags(registry, "library/app")).toEqual(["1.0"]);
    const text = await cli(restoreArgs(["--confirm", NS]));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Restored ${goodKey} into claim registry-clouddrove-data.`);
    expect(text.stdout).toContain("repositories, 1 tags");
  });

  it("a failed restore Job leaves the registry stopped and says how to finish; a re-run finishes", async () => {
    await deployWithBucket();
    // The archive verified, then changes in the bucket before the restore Job reads it (a byte flipped
    // once writes are stopped): restore.sh refuses it for real and exits 1.
    let flipped = false;
    const unsubscribe = store().subscribe("Deployment", (event) => {
      if (flipped || event.object.spec?.replicas !== 0) return;
      flipped = true;
      flipByte(goodKey);
    });
    const failed = await cli(restoreArgs(["--confirm", NS]));
    unsubscribe();
    expect(flipped).toBe(true);
    expect(failed.stderr).toContain("restore: REFUSED: checksum mismatch");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/The restore Job registry-clouddrove-restore-\S+ failed/);
    expect(failed.stderr).toContain("State: The registry is stopped (0 replicas, was 3)");
    // The command that finishes reaches the same cluster the restore ran against.
    expect(failed.stderr).toContain(
      `kubectl --kubeconfig ${sbx.kubeconfigPath} --context clouddrove-sandbox -n ${NS} scale deployment registry-clouddrove --replicas=3`,
    );
    const stopped = store().get("Deployment", NS, "registry-clouddrove") as KubeObject;
    expect(stopped.spec.replicas).toBe(0);
    expect(stopped.metadata.annotations?.["clouddrove.io/replicas-before-restore"]).toBe("3");

    flipByte(goodKey); // the archive as it was written
    const rerun = await cli(restoreArgs(["--confirm", NS], { json: true }));
    expect(rerun.stderr).not.toContain("Error");
    expect(rerun.code).toBe(0);
    const report = JSON.parse(rerun.stdout);
    expect(report).toMatchObject({ ok: true, replicas: 3, health: { healthy: true } });
    // The first attempt's failed pod is kept for its log and named, not counted against the registry.
    expect(report.warnings.join("\n")).toMatch(
      /pod registry-clouddrove-restore-\S+ of an earlier Job is Failed/,
    );
    expect(store().get("Deployment", NS, "registry-clouddrove")?.spec.replicas).toBe(3);
  });

  it("Ctrl-C once writes are stopped: exit 130, the data untouched, and how to start it again", async () => {
    await deployWithBucket();
    const controller = new AbortController();
    const unsubscribe = store().subscribe("Deployment", (event) => {
      if (event.object.spec?.replicas === 0) controller.abort();
    });
    const run = await runCli(["--kubeconfig", sbx.kubeconfigPath, ...restoreArgs(["--confirm", NS])], {
      env: env(),
      signal: controller.signal,
    });
    unsubscribe();
    expect(run.code).toBe(130);
    expect(run.stderr).toContain("State: The registry is stopped or stopping");
    expect(run.stderr).toContain("its data was not changed");
    expect(run.stderr).toContain(
      `kubectl --kubeconfig ${sbx.kubeconfigPath} --context clouddrove-sandbox -n ${NS} scale deployment registry-clouddrove --replicas=3`,
    );
    expect(run.stderr).toContain(
      `clouddrove backup restore --kubeconfig ${sbx.kubeconfigPath} --context clouddrove-sandbox --from `,
    );
    expect(jobs()).toEqual([]);
  });

  it("--to-claim restores into another claim and never stops the live registry", async () => {
    await deployWithBucket();
    const scaled: number[] = [];
    const unsubscribe = store().subscribe("Deployment", (event) => scaled.push(event.object.spec?.replicas));
    const missing = await cli(restoreArgs(["--to-claim", "restored"]));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--storage-class");
    createBoundClaim("restored", {
      storage: "50Gi",
      accessModes: ["ReadWriteMany"],
      storageClassName: "",
      csi: { driver: "efs.csi.aws.com", volumeHandle: "fs-0123456789abcdef0::fsap-0123456789abcdef0" },
    });
    const run = await cli(restoreArgs(["--to-claim", "restored"], { json: true }));
    unsubscribe();
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ ok: true, toClaim: "restored", health: null });
    expect(scaled.every((r) => r === 3)).toBe(true);
    const job = store().get("Job", NS, report.job) as KubeObject;
    expect(
      job.spec.template.spec.volumes.find((v: { name: string }) => v.name === "data").persistentVolumeClaim
        .claimName,
    ).toBe("restored");
  });

  it("--dry-run shows the plan and the Job and changes nothing (no confirmation needed)", async () => {
    await deployWithBucket();
    const run = await cli(restoreArgs(["--dry-run"]));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "Stop writes: scale deployment registry-clouddrove in clouddrove from 3 to 0",
    );
    expect(run.stdout).toContain("kind: Job");
    expect(jobs()).toEqual([]);
    expect(store().get("Deployment", NS, "registry-clouddrove")?.spec.replicas).toBe(3);
  });
});

describe("backup restore at a terminal", () => {
  beforeEach(writeArchives, 60_000);

  it("asks for the namespace, rejecting anything else; Ctrl-C there changes nothing (exit 130)", async () => {
    await deployWithBucket();
    const restore = (prompter: ScriptedPrompter) =>
      runCli(["--kubeconfig", sbx.kubeconfigPath, ...restoreArgs([])], {
        env: cleanEnv({ ...s3Environment(sbx.sandbox) }),
        tty: true,
        prompter,
      });
    const interrupted = await restore(new ScriptedPrompter([{ interrupt: true }]));
    expect(interrupted.code).toBe(130);
    expect(store().get("Deployment", NS, "registry-clouddrove")?.spec.replicas).toBe(3);
    expect(jobs()).toEqual([]);

    const prompter = new ScriptedPrompter(["yes", NS]);
    const run = await restore(prompter);
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    expect(prompter.asked).toHaveLength(1);
    expect(prompter.asked[0]?.message).toContain(`Type the namespace (${NS}) to restore`);
    expect(prompter.asked[0]?.rejected).toEqual([
      `Type ${NS} exactly, or press Ctrl-C to leave the registry as it is.`,
    ]);
    // The plan is shown before the question.
    expect(run.stderr).toContain("2. Stop writes: scale deployment registry-clouddrove");
  });
});

describe("--sandbox", () => {
  it("with no AWS settings at all: deploy with a bucket, then backup now, verify and restore --sandbox give back the registry's content", async () => {
    // --sandbox starts the sandbox in the background and gives each command its AWS environment: the
    // sandbox's own endpoint, S3 and keys. Nothing else is set.
    const stateDir = join(work, "sandbox-state");
    const runEnv = cleanEnv({
      CI: "true",
      CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD,
      CLOUDDROVE_SANDBOX_DIR: stateDir,
      CLOUDDROVE_SANDBOX_SPEED: "200",
    });
    expect(Object.keys(runEnv).filter((name) => name.startsWith("AWS_"))).toEqual([]);
    const bucket = ["--backup-bucket", BUCKET, "--backup-prefix", "sandbox/", "--backup-role-arn", ROLE];
    try {
      const deployed = await runCli(
        ["-o", "json", "deploy", "--sandbox", "--yes", "--insecure-http", ...bucket],
        {
          env: runEnv,
        },
      );
      expect(deployed.stderr).not.toContain("Error");
      expect(deployed.code).toBe(0);
      const report = JSON.parse(deployed.stdout);
      expect(report.backup.retentionRule).toMatchObject({ action: "created" });
      const registry = withCredentials(`http://${report.registry.address}`);
      await pushRandomImage(registry, "library/app", "1.0", { layers: 2, layerSize: 100_000 });
      await pushRandomImage(registry, "team/tools/cli", "latest", { layers: 1, layerSize: 50_000 });
      const before = await registryContent(registry);

      const now = await runCli(["-o", "json", "backup", "now", "--sandbox", ...bucket, ...SHORT], {
        env: runEnv,
      });
      expect(now.stderr).toContain("Using the sandbox");
      expect(now.code, now.stderr).toBe(0);
      const { archive } = JSON.parse(now.stdout);
      expect(archive.key).toMatch(/^sandbox\//);
      expect(archive.uploadedBytes).toBeGreaterThan(150_000);

      const verify = await runCli(["backup", "verify", "--sandbox", "--from", archive.key, ...bucket], {
        env: runEnv,
      });
      expect(verify.code, verify.stderr).toBe(0);

      // What changes after the backup is gone after the restore.
      await pushRandomImage(registry, "library/app", "2.0", { layers: 1, layerSize: 10_000 });
      expect(await registryContent(registry)).not.toEqual(before);
      const restored = await runCli(
        ["backup", "restore", "--sandbox", "--from", archive.key, "--confirm", NS, ...bucket, ...SHORT],
        { env: runEnv },
      );
      expect(restored.code, restored.stderr).toBe(0);
      // The restore stopped every replica: connections this process kept alive to the load balancer were
      // closed with them, and the first request on one fails ("other side closed"), as against an NLB
      // whose targets went away. Asked again, on a new connection.
      const after = await registryContent(registry).catch(() => registryContent(registry));
      expect(after).toEqual(before);
    } finally {
      await down(stateDir);
    }
  });
});
