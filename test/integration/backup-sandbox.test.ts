/**
 * The backup commands against the sandbox as a user runs them (in-process CLI, kubeconfig pointing at a
 * sandbox the test started) with s3rver as the bucket: deploy renders the CronJob and prunes it when the
 * bucket goes; `backup now` starts a Job from the CronJob's template and waits for it (success, and a
 * failure reported with the pod's last log lines); `snapshot` on EBS and EFS; `restore` refuses without a
 * confirmation, refuses an archive that does not verify, and runs its steps in order. The sandbox runs
 * no containers: every Job is simulated, and the commands say so.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../sandbox/src/types.js";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { cleanEnv, runCli } from "../support/run-cli.js";
import { type S3Server, startS3Server } from "../support/s3-server.js";
import { ScriptedPrompter } from "../support/scripted-prompter.js";
import { BAD, GOOD, s3Env, s3Flags, writeGoodAndBadArchives } from "./backup-fixtures.js";

const PASSWORD = "correct-horse-battery-staple";
const NS = "clouddrove";
const ROLE = "arn:aws:iam::123456789012:role/clouddrove-backup";

let s3: S3Server;
let work: string;
let sbx: TestSandbox;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "clouddrove-backup-sbx-"));
  s3 = await startS3Server();
  await writeGoodAndBadArchives(s3, join(work, "data"));
}, 60_000);
afterAll(async () => {
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});
beforeEach(async () => {
  sbx = await startTestSandbox({ controllers: true, speed: 200 });
});
afterEach(async () => {
  await sbx.stop();
});

const env = () => cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD, ...s3Env(s3) });
const cli = (args: string[]) => runCli(["--kubeconfig", sbx.kubeconfigPath, ...args], { env: env() });
const bucketFlags = (prefix = GOOD) => [...s3Flags(s3, prefix), "--backup-role-arn", ROLE];
/** A stuck wait fails the test in seconds, not after the default hours. */
const SHORT = ["--timeout", "20s"];

function deploy(extra: string[] = []) {
  return cli([
    "-o",
    "json",
    "deploy",
    "--yes",
    "--no-smoke-test",
    "--efs-file-system-id",
    "fs-0123456789abcdef0",
    ...extra,
  ]);
}

async function deployWithBucket(prefix = GOOD): Promise<void> {
  const run = await deploy([...bucketFlags(prefix), "--no-retention-rule"]);
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

/** Adds annotations to the backup CronJob's Job template (as kubectl edit would). */
function annotateJobTemplate(annotations: Record<string, string>): void {
  const cronJob = structuredClone(store().get("CronJob", NS, "registry-clouddrove-backup") as KubeObject);
  cronJob.spec.jobTemplate.metadata.annotations = {
    ...cronJob.spec.jobTemplate.metadata.annotations,
    ...annotations,
  };
  store().update(cronJob);
}

describe("deploy with a backup bucket", () => {
  it("applies ServiceAccount, scripts and CronJob after the registry objects; prunes them when the bucket goes", async () => {
    const run = await deploy([...bucketFlags(), "--no-retention-rule"]);
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
      archives: `s3://${s3.bucket}/${GOOD}`,
      retentionRule: { action: "skipped", reason: "--no-retention-rule" },
    });

    const cronJob = store().get("CronJob", NS, "registry-clouddrove-backup") as KubeObject;
    expect(cronJob.spec).toMatchObject({
      schedule: "0 3 * * *",
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
    expect(envOf("BACKUP_BUCKET")).toBe(s3.bucket);
    expect(envOf("RCLONE_CONFIG_BACKUP_ENDPOINT")).toBe(s3.endpoint);
    expect(
      store().get("ServiceAccount", NS, "registry-clouddrove-backup")?.metadata.annotations?.[
        "eks.amazonaws.com/role-arn"
      ],
    ).toBe(ROLE);
    // s3rver listens on a port the backup pods' NetworkPolicy does not open: deploy says so.
    expect(report.warnings.join("\n")).toContain("TCP 443 only");

    const again = await deploy([...bucketFlags(), "--no-retention-rule"]);
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
    const run = await deploy(bucketFlags());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("does not implement lifecycle rules");
    expect(run.stderr).toContain("--no-retention-rule");
    expect(JSON.parse(run.stdout).steps[0]).toMatchObject({ status: "failed" });
    expect(store().get("Namespace", undefined, NS)).toBeUndefined();
  });
});

describe("backup now", () => {
  it("creates a Job from the CronJob's template, waits for it, and says the sandbox simulated it", async () => {
    await deployWithBucket();
    const run = await cli(["-o", "json", "backup", "now", ...bucketFlags(), ...SHORT]);
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      ok: true,
      simulated: true,
      archive: null,
      cronJob: "registry-clouddrove-backup",
    });
    expect(report.job).toMatch(/^registry-clouddrove-backup-now-\d{8}-\d{6}-[0-9a-f]{4}$/);

    const cronJob = store().get("CronJob", NS, "registry-clouddrove-backup") as KubeObject;
    const job = store().get("Job", NS, report.job) as KubeObject;
    expect(job.metadata.ownerReferences?.[0]).toMatchObject({ kind: "CronJob", uid: cronJob.metadata.uid });
    expect(job.metadata.annotations?.["cronjob.kubernetes.io/instantiate"]).toBe("manual");
    expect(job.metadata.labels?.["app.kubernetes.io/component"]).toBe("backup");
    expect(job.spec.template.spec.containers).toEqual(cronJob.spec.jobTemplate.spec.template.spec.containers);
    expect(
      job.status.conditions.some(
        (c: { type: string; status: string }) => c.type === "Complete" && c.status === "True",
      ),
    ).toBe(true);

    const text = await cli(["backup", "now", ...bucketFlags(), ...SHORT]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("sandbox: the Job was simulated; no archive was written");
  });

  it("reports a failed Job with the pod's last log lines and exit code, exit 1", async () => {
    await deployWithBucket();
    annotateJobTemplate({
      "sandbox.clouddrove.io/fail": "true",
      "sandbox.clouddrove.io/fail-message": "archive: FAILED: rclone rcat: AccessDenied",
    });
    const run = await cli(["-o", "json", "backup", "now", ...bucketFlags(), ...SHORT]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(false);
    const failure = report.failure.join("\n");
    expect(failure).toContain("BackoffLimitExceeded");
    expect(failure).toMatch(/exit code 1.*archive: FAILED: rclone rcat: AccessDenied/);
    expect(failure).toMatch(/last 1 log line\(s\) of pod registry-clouddrove-backup-now-/);
    expect(failure).toContain('container "archive"');
    expect(run.stderr).toContain(`kubectl -n ${NS} logs job/${report.job}`);
    // Three attempts (backoffLimit 2), each a pod kept for its log.
    expect(
      store()
        .list("Pod", { namespace: NS })
        .filter((p) => p.metadata.labels?.["job-name"] === report.job),
    ).toHaveLength(3);
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
    expect(run.stderr).toContain(
      `clouddrove backup now: a verified tar archive in s3://${s3.bucket}/${GOOD}`,
    );
    expect(run.stderr).toContain("AWS Backup");
    expect(run.stderr).toContain("fs-0123456789abcdef0");
    expect(store().list("VolumeSnapshot", { namespace: NS })).toEqual([]);
    const json = await cli(["-o", "json", "backup", "snapshot", ...SHORT]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ supported: false, driver: "efs.csi.aws.com" });
  });

  it("snapshots an EBS-backed claim and waits until it is ready to use; list shows it", async () => {
    await deployWithBucket();
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
    expect(report).toMatchObject({ ok: true, simulated: true, replicas: 3, health: { healthy: true } });
    expect(report.verified).toMatchObject({ repositories: 1, tags: 1 });
    expect(events).toEqual(["replicas=0", `job ${report.job} (registry pods: 0)`, "replicas=3"]);
    const deployment = store().get("Deployment", NS, "registry-clouddrove") as KubeObject;
    expect(deployment.metadata.annotations?.["clouddrove.io/replicas-before-restore"]).toBeUndefined();
    const job = store().get("Job", NS, report.job) as KubeObject;
    const restoreEnv = job.spec.template.spec.containers[0].env;
    expect(restoreEnv.find((e: { name: string }) => e.name === "RESTORE_KEY").value).toMatch(
      /^good\/\d{8}T\d{6}Z\.tar$/,
    );
    const text = await cli(restoreArgs(["--confirm", NS]));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("sandbox: the restore Job was simulated; no data was restored");
  });

  it("a failed restore Job leaves the registry stopped and says how to finish; a re-run finishes", async () => {
    await deployWithBucket();
    const unsubscribe = store().subscribe("Job", (event) => {
      if (event.type !== "ADDED") return;
      // As if restore.sh failed: every attempt of the restore Job exits 1.
      setImmediate(() => {
        const job = structuredClone(store().get("Job", NS, event.object.metadata.name) as KubeObject);
        job.metadata.annotations = { ...job.metadata.annotations, "sandbox.clouddrove.io/fail": "true" };
        store().update(job);
      });
    });
    const failed = await cli(restoreArgs(["--confirm", NS]));
    unsubscribe();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/The restore Job registry-clouddrove-restore-\S+ failed/);
    expect(failed.stderr).toContain("State: The registry is stopped (0 replicas, was 3)");
    expect(failed.stderr).toContain(`kubectl -n ${NS} scale deployment registry-clouddrove --replicas=3`);
    const stopped = store().get("Deployment", NS, "registry-clouddrove") as KubeObject;
    expect(stopped.spec.replicas).toBe(0);
    expect(stopped.metadata.annotations?.["clouddrove.io/replicas-before-restore"]).toBe("3");

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
    expect(run.stderr).toContain(`kubectl -n ${NS} scale deployment registry-clouddrove --replicas=3`);
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
  it("asks for the namespace, rejecting anything else; Ctrl-C there changes nothing (exit 130)", async () => {
    await deployWithBucket();
    const restore = (prompter: ScriptedPrompter) =>
      runCli(["--kubeconfig", sbx.kubeconfigPath, ...restoreArgs([])], {
        env: cleanEnv({ ...s3Env(s3) }),
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
  it("deploy --sandbox with a bucket, then backup now --sandbox: a simulated Job, said plainly", async () => {
    const env = cleanEnv({
      CI: "true",
      CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD,
      CLOUDDROVE_SANDBOX_DIR: join(work, "sandbox-state"),
      CLOUDDROVE_SANDBOX_SPEED: "200",
      ...s3Env(s3),
    });
    const deployed = await runCli(
      ["deploy", "--sandbox", "--yes", "--no-smoke-test", "--no-retention-rule", ...bucketFlags()],
      { env },
    );
    expect(deployed.stderr).not.toContain("Error");
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toContain("Backups:        CronJob registry-clouddrove-backup");
    const now = await runCli(["backup", "now", "--sandbox", ...SHORT], { env });
    expect(now.code).toBe(0);
    expect(now.stderr).toContain("Using the sandbox");
    expect(now.stdout).toContain("sandbox: the Job was simulated; no archive was written");
  });
});
