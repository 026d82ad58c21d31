/**
 * The pure parts of the backup commands: reading the scripts' result lines, deciding whether a claim can
 * be snapshotted, the restore's confirmation and what a stopped restore leaves behind, the bucket target
 * from settings and environment, the endpoint settings in the rendered Jobs, and the reports' wording.
 */
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import { backupBucketTarget } from "../../src/core/backup/bucket-target.js";
import { backupDeployNotes } from "../../src/core/backup/deploy-notes.js";
import {
  formatBytes,
  lastLines,
  parseArchiveResult,
  parseRestoreResult,
  timestampedName,
} from "../../src/core/backup/job-log.js";
import { renderBackupObjects, renderRestoreJob } from "../../src/core/backup/render.js";
import {
  type NowReport,
  nowReportText,
  type RestoreReport,
  restoreReportText,
} from "../../src/core/backup/report.js";
import {
  checkConfirmation,
  REPLICAS_BEFORE_RESTORE,
  type RestoreTarget,
  replicasToRestore,
  restorePlan,
  restoreStoppedIn,
} from "../../src/core/backup/restore-plan.js";
import { snapshotSupport, type VolumeSnapshotClass } from "../../src/core/backup/snapshot.js";
import { ExitCode, UsageError } from "../../src/errors.js";
import { effectivePhase } from "../../src/steps/backup/restore.js";

const config = (...set: string[]) =>
  resolveConfig({
    set: [
      "backup.bucket=acme-backups",
      "backup.region=eu-west-1",
      "backup.roleArn=arn:aws:iam::123456789012:role/clouddrove-backup",
      ...set,
    ],
  }).config;

const SHA = "a".repeat(64);

describe("the scripts' result lines", () => {
  it("reads archive.sh's last line among log lines", () => {
    const log = [
      "2025-01-31T03:00:00Z archive: listing tags",
      `clouddrove-backup key=clouddrove/20250131T030000Z.tar bytes=1048576 seconds=12 sha256=${SHA}`,
    ].join("\n");
    expect(parseArchiveResult(log)).toEqual({
      key: "clouddrove/20250131T030000Z.tar",
      bytes: 1048576,
      seconds: 12,
      sha256: SHA,
    });
  });

  it("has no result without the line, or with a malformed checksum", () => {
    expect(parseArchiveResult("archive: FAILED: no registry data")).toBeUndefined();
    expect(parseArchiveResult("clouddrove-backup key=x bytes=1 seconds=1 sha256=zz")).toBeUndefined();
  });

  it("reads restore.sh's line with its counts and where the old data went", () => {
    const log = `clouddrove-restore key=k.tar bytes=10 seconds=2 sha256=${SHA} repositories=3 tags=6 manifests=7 notes=1 previous=/var/lib/clouddrove/docker.pre-restore-20250131T040000Z`;
    expect(parseRestoreResult(log)).toMatchObject({
      repositories: 3,
      tags: 6,
      manifests: 7,
      notes: 1,
      previous: "/var/lib/clouddrove/docker.pre-restore-20250131T040000Z",
    });
  });

  it("keeps the last non-empty lines, and formats sizes and names", () => {
    expect(lastLines("a\n\nb\nc\n", 2)).toEqual(["b", "c"]);
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536 * 1024 * 1024)).toBe("1.5 GiB");
    const name = timestampedName("registry-clouddrove-restore", new Date("2025-01-31T03:04:05.678Z"), "beef");
    expect(name).toBe("registry-clouddrove-restore-20250131-030405-beef");
    expect(timestampedName("registry-clouddrove-backup-now", new Date(), "beef").length).toBeLessThanOrEqual(
      52,
    );
  });
});

describe("snapshotSupport", () => {
  const claim = { metadata: { name: "data" }, spec: { volumeName: "pv-1" } };
  const pv = (spec: object) => ({ metadata: { name: "pv-1" }, spec });
  const ebsClass = (name: string, isDefault = false): VolumeSnapshotClass => ({
    metadata: {
      name,
      annotations: isDefault ? { "snapshot.storage.kubernetes.io/is-default-class": "true" } : {},
    },
    driver: "ebs.csi.aws.com",
  });

  it("says no for EFS, naming the archive and AWS Backup for its file system", () => {
    const support = snapshotSupport({
      claim,
      volume: pv({ csi: { driver: "efs.csi.aws.com", volumeHandle: "fs-0123456789abcdef0::fsap-1" } }),
      classes: [ebsClass("ebs", true)],
      archiveLocation: "s3://acme-backups/clouddrove/",
    });
    expect(support.supported).toBe(false);
    if (support.supported) return;
    expect(support.reason).toContain("EFS does not implement CSI snapshots");
    expect(support.alternatives[0]).toContain("clouddrove backup now");
    expect(support.alternatives[0]).toContain("s3://acme-backups/clouddrove/");
    expect(support.alternatives[1]).toContain("AWS Backup");
    expect(support.alternatives[1]).toContain("file-system/fs-0123456789abcdef0");
  });

  it("says no for NFS and for a claim that is not bound", () => {
    const nfs = snapshotSupport({
      claim,
      volume: pv({ nfs: { server: "10.0.0.5", path: "/" } }),
      classes: [],
    });
    expect(nfs.supported === false && nfs.reason).toContain("NFS export (server 10.0.0.5)");
    const unbound = snapshotSupport({
      claim: { metadata: { name: "data" }, spec: {} },
      volume: undefined,
      classes: [],
    });
    expect(unbound.supported === false && unbound.reason).toContain("not bound");
  });

  it("picks the driver's default class for EBS, or its only one", () => {
    const volume = pv({ csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-1" } });
    expect(snapshotSupport({ claim, volume, classes: [ebsClass("a"), ebsClass("b", true)] })).toMatchObject({
      supported: true,
      snapshotClass: "b",
    });
    expect(snapshotSupport({ claim, volume, classes: [ebsClass("only")] })).toMatchObject({
      snapshotClass: "only",
    });
  });

  it("says why when no class fits", () => {
    const volume = pv({ csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-1" } });
    const none = snapshotSupport({ claim, volume, classes: [] });
    expect(none.supported === false && none.reason).toContain(
      "no VolumeSnapshotClass exists for driver ebs.csi.aws.com",
    );
    const several = snapshotSupport({ claim, volume, classes: [ebsClass("a"), ebsClass("b")] });
    expect(several.supported === false && several.reason).toContain("--snapshot-class");
    const other = snapshotSupport({
      claim,
      volume,
      classes: [{ metadata: { name: "x" }, driver: "pd.csi.storage.gke.io" }],
      requestedClass: "x",
    });
    expect(other.supported === false && other.reason).toContain("is for driver pd.csi.storage.gke.io");
  });
});

describe("the restore's confirmation and stopping points", () => {
  const target: RestoreTarget = {
    namespace: "registry",
    key: "clouddrove/20250131T030000Z.tar",
    replicas: 3,
    jobName: "registry-clouddrove-restore-x",
  };

  it("needs --confirm with the namespace when nobody can be asked (exit 2)", () => {
    expect(() => checkConfirmation("registry", "registry")).not.toThrow();
    for (const given of [undefined, "clouddrove"]) {
      const error = (() => {
        try {
          checkConfirmation("registry", given);
        } catch (e) {
          return e as UsageError;
        }
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect(error?.exitCode).toBe(ExitCode.usage);
      expect(error?.hint).toContain("--confirm registry");
    }
  });

  it("says for every stopping point what state the registry is in and how to finish", () => {
    const scale = "kubectl -n registry scale deployment registry-clouddrove --replicas=3";
    expect(restoreStoppedIn("verify", target)).toEqual({
      state: "Nothing was changed: the registry keeps serving its data as it was.",
      finish: [],
    });
    expect(restoreStoppedIn("stop", target).finish[0]).toContain(scale);
    expect(restoreStoppedIn("restore", target).state).toContain("stopped (0 replicas, was 3)");
    expect(restoreStoppedIn("restore", target).finish).toEqual([
      "kubectl -n registry logs job/registry-clouddrove-restore-x",
      expect.stringContaining(scale),
      expect.stringContaining(
        "clouddrove backup restore --from clouddrove/20250131T030000Z.tar --confirm registry",
      ),
    ]);
    expect(restoreStoppedIn("restored", target).finish[0]).toBe(scale);
    expect(restoreStoppedIn("start", target).finish).toContain("clouddrove status");
    const toClaim = restoreStoppedIn("restore", { ...target, toClaim: "copy" });
    expect(toClaim.state).toContain("The live registry was not touched");
    expect(toClaim.finish.join("\n")).not.toContain("scale");
  });

  it("the commands it prints reach the same cluster the restore ran against", () => {
    const reach = {
      kubectl: ["--kubeconfig", "/home/op/.clouddrove/sandbox/kubeconfig", "--context", "clouddrove-sandbox"],
      clouddrove: ["--sandbox"],
    };
    const target = { namespace: "registry", key: "k.tar", replicas: 3, jobName: "job-x", reach };
    expect(restoreStoppedIn("restore", target).finish).toEqual([
      "kubectl --kubeconfig /home/op/.clouddrove/sandbox/kubeconfig --context clouddrove-sandbox -n registry logs job/job-x",
      expect.stringContaining(
        "kubectl --kubeconfig /home/op/.clouddrove/sandbox/kubeconfig --context clouddrove-sandbox -n registry scale",
      ),
      expect.stringContaining("clouddrove backup restore --sandbox --from k.tar --confirm registry"),
    ]);
    expect(restoreStoppedIn("health", target).finish).toEqual(["clouddrove status --sandbox"]);
    // A kubeconfig path with a space is quoted for the shell.
    const spaced = { ...target, reach: { kubectl: ["--kubeconfig", "/my configs/k"], clouddrove: [] } };
    expect(restoreStoppedIn("start", spaced).finish[0]).toBe(
      "kubectl --kubeconfig '/my configs/k' -n registry rollout status deployment/registry-clouddrove",
    );
  });

  it("a finished step means the state before the next one", () => {
    expect(effectivePhase({ phase: "restore", done: new Set(["verify", "stop"]) })).toBe("restore");
    expect(effectivePhase({ phase: "restore", done: new Set(["verify", "stop", "restore"]) })).toBe(
      "restored",
    );
    expect(effectivePhase({ phase: "start", done: new Set(["start"]) })).toBe("health");
  });

  it("brings back the remembered count on a re-run, else the live one, else the configured one", () => {
    expect(
      replicasToRestore(
        { metadata: { annotations: { [REPLICAS_BEFORE_RESTORE]: "5" } }, spec: { replicas: 0 } },
        3,
      ),
    ).toBe(5);
    expect(replicasToRestore({ spec: { replicas: 4 } }, 3)).toBe(4);
    expect(replicasToRestore({ spec: { replicas: 0 } }, 3)).toBe(3);
    expect(replicasToRestore(undefined, 3)).toBe(3);
  });

  it("plans the stop and the start only over live data", () => {
    expect(restorePlan(target).join("\n")).toContain("from 3 to 0");
    expect(restorePlan({ ...target, toClaim: "copy" }).join("\n")).not.toContain("scale");
  });
});

describe("the bucket as the CLI reaches it", () => {
  it("needs a bucket (exit 2 naming the flag)", () => {
    const error = (() => {
      try {
        backupBucketTarget(resolveConfig({}).config, {});
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(error?.exitCode).toBe(ExitCode.usage);
    expect(error?.hint).toContain("--backup-bucket");
  });

  it("takes region from the settings, then the environment; keys only when both are set", () => {
    expect(backupBucketTarget(config(), {})).toEqual({
      bucket: "acme-backups",
      prefix: "clouddrove/",
      region: "eu-west-1",
    });
    const fromEnv = resolveConfig({ set: ["backup.bucket=acme-backups"] }).config;
    expect(backupBucketTarget(fromEnv, { AWS_REGION: "us-west-2" }).region).toBe("us-west-2");
    expect(backupBucketTarget(fromEnv, { AWS_ACCESS_KEY_ID: "AKIA" }).credentials).toBeUndefined();
    expect(
      backupBucketTarget(config("backup.endpoint=http://127.0.0.1:9000"), {
        AWS_ACCESS_KEY_ID: "AKIA",
        AWS_SECRET_ACCESS_KEY: "secret",
      }),
    ).toMatchObject({
      endpoint: "http://127.0.0.1:9000",
      credentials: { accessKeyId: "AKIA", secretAccessKey: "secret" },
    });
  });

  it("takes an endpoint from the command's AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL; a configured one wins", () => {
    const s3Only = { AWS_ENDPOINT_URL_S3: "http://127.0.0.1:4568", AWS_ENDPOINT_URL: "http://127.0.0.1:1" };
    expect(backupBucketTarget(config(), s3Only).endpoint).toBe("http://127.0.0.1:4568");
    expect(backupBucketTarget(config(), { AWS_ENDPOINT_URL: "http://127.0.0.1:1" }).endpoint).toBe(
      "http://127.0.0.1:1",
    );
    expect(backupBucketTarget(config("backup.endpoint=https://minio.example.com"), s3Only).endpoint).toBe(
      "https://minio.example.com",
    );
    expect(backupBucketTarget(config(), { AWS_ENDPOINT_URL_S3: "" }).endpoint).toBeUndefined();
  });
});

// biome-ignore lint/suspicious/noExplicitAny: reads deep into rendered objects, whose fields are unknown
type Any = any;

describe("an S3-compatible endpoint", () => {
  const envOf = (container: { env: Array<{ name: string; value?: string }> }, name: string) =>
    container.env.find((e) => e.name === name)?.value;

  it("points the CronJob's and the restore Job's rclone at it, path-style", async () => {
    const withEndpoint = config("backup.endpoint=https://minio.example.com");
    const cronJob: Any = (await renderBackupObjects(withEndpoint)).find((o) => o.kind === "CronJob");
    const archive = cronJob?.spec.jobTemplate.spec.template.spec.containers[0];
    expect(envOf(archive, "RCLONE_CONFIG_BACKUP_ENDPOINT")).toBe("https://minio.example.com");
    expect(envOf(archive, "RCLONE_CONFIG_BACKUP_PROVIDER")).toBe("Other");
    expect(envOf(archive, "RCLONE_CONFIG_BACKUP_FORCE_PATH_STYLE")).toBe("true");
    const restore = ((await renderRestoreJob(withEndpoint, "latest")) as Any).spec.template.spec
      .containers[0];
    expect(envOf(restore, "RCLONE_CONFIG_BACKUP_ENDPOINT")).toBe("https://minio.example.com");
    const plain: Any = (await renderBackupObjects(config())).find((o) => o.kind === "CronJob");
    expect(
      envOf(plain?.spec.jobTemplate.spec.template.spec.containers[0], "RCLONE_CONFIG_BACKUP_ENDPOINT"),
    ).toBeUndefined();
  });

  it("warns when its port is one the backup pods' NetworkPolicy does not open", () => {
    expect(backupDeployNotes(config("backup.endpoint=http://minio:9000")).warnings[0]).toContain("port 9000");
    expect(backupDeployNotes(config("backup.endpoint=https://minio.example.com")).warnings).toEqual([]);
  });

  it("is refused when it is not an http(s) URL", () => {
    expect(() => config("backup.endpoint=minio:9000")).toThrow(/an http\(s\) URL/);
  });
});

describe("the reports", () => {
  const now: NowReport = {
    ok: true,
    dryRun: false,
    target: "context prod",
    namespace: "clouddrove",
    cronJob: "registry-clouddrove-backup",
    job: "registry-clouddrove-backup-now-x",
    archive: null,
    location: null,
    jobSeconds: 5,
    failure: null,
    warnings: [],
    steps: [],
  };

  it("names the archive a Job wrote, and says when a completed Job reported none", () => {
    expect(nowReportText(now)).toBe(
      "Job registry-clouddrove-backup-now-x completed, but it reported no archive (see the warning above).",
    );
    const real = nowReportText({
      ...now,
      archive: { key: "clouddrove/20250131T030000Z.tar", bytes: 2048, seconds: 90, sha256: SHA },
      location: "s3://acme-backups/clouddrove/20250131T030000Z.tar",
    });
    expect(real).toContain("Backup written: s3://acme-backups/clouddrove/20250131T030000Z.tar");
    expect(real).toContain("2.0 KiB (2048 bytes)");
    expect(real).toContain("1m30s");
    expect(real).toContain(SHA);
    expect(real).not.toContain("sandbox");
  });

  it("a stopped restore prints its state and the commands that finish it", () => {
    const report: RestoreReport = {
      ok: false,
      dryRun: false,
      target: "context prod",
      namespace: "clouddrove",
      key: "k.tar",
      toClaim: null,
      claim: "registry-clouddrove-data",
      job: "j",
      replicas: 3,
      plan: [],
      verified: null,
      restored: null,
      health: null,
      stoppedIn: "restore",
      state: "The registry is stopped.",
      finish: ["kubectl -n clouddrove logs job/j"],
      warnings: [],
      steps: [],
    };
    expect(restoreReportText(report)).toBe(
      "The restore of k.tar stopped (restore).\nState: The registry is stopped.\nTo finish:\n  kubectl -n clouddrove logs job/j",
    );
  });
});
