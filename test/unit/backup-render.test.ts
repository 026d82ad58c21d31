/** The backup objects and the restore Job: fields, credentials variants, and the Kubernetes schemas. */
import { readFileSync } from "node:fs";
import { CronJob, Job } from "kubernetes-models/batch/v1";
import { ConfigMap, ServiceAccount } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { resolveConfig } from "../../src/config/resolve.js";
import type { Config } from "../../src/config/schema.js";
import {
  backupNames,
  jobFromCronJob,
  renderBackupObjects,
  renderRestoreJob,
} from "../../src/core/backup/render.js";
import { names } from "../../src/core/render/names.js";
import type { KubeObject } from "../../src/core/render/types.js";
import { UsageError } from "../../src/errors.js";
import { type KindSchema, schemaProblems } from "../support/kube-schema.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read deep into plain JSON objects
type Any = any;

const ROLE = "arn:aws:iam::123456789012:role/registry-backup";
const BASE = ["backup.bucket=acme-registry-backups", `backup.roleArn=${ROLE}`, "cluster.region=eu-west-1"];
const configWith = (...set: string[]): Config => resolveConfig({ set: [...BASE, ...set] }).config;
const templateText = (file: string) =>
  readFileSync(new URL(`../../templates/backup/${file}`, import.meta.url), "utf8");

async function rendered(config: Config) {
  const objects = await renderBackupObjects(config);
  const find = (kind: string): Any => {
    const found = objects.find((o) => o.kind === kind);
    if (!found) throw new Error(`no ${kind}`);
    return found;
  };
  const cronJob = find("CronJob");
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  const container = pod.containers.find((c: Any) => c.name === backupNames.archiveContainer);
  const env = (name: string) => container.env.find((e: Any) => e.name === name);
  return {
    objects,
    account: find("ServiceAccount"),
    configMap: find("ConfigMap"),
    cronJob,
    pod,
    container,
    env,
  };
}

/** The kinds the backup renders, checked as the API server checks them (see test/support/kube-schema.ts). */
const KINDS: Record<string, KindSchema> = {
  ServiceAccount: { schema: ServiceAccount, client: "V1ServiceAccount" },
  ConfigMap: { schema: ConfigMap, client: "V1ConfigMap" },
  CronJob: { schema: CronJob, client: "V1CronJob" },
  Job: { schema: Job, client: "V1Job" },
};
const backupProblems = (object: KubeObject) => schemaProblems(object, KINDS);

describe("renderBackupObjects", () => {
  it("renders nothing when no bucket is configured (backups are off)", async () => {
    expect(await renderBackupObjects(resolveConfig({ set: [] }).config)).toEqual([]);
  });

  it("renders ServiceAccount, scripts ConfigMap and CronJob, in apply order, in the namespace", async () => {
    const { objects } = await rendered(configWith("namespace=team-registry"));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ServiceAccount/registry-clouddrove-backup",
      "ConfigMap/registry-clouddrove-backup-scripts",
      "CronJob/registry-clouddrove-backup",
    ]);
    for (const object of objects) {
      expect(object.metadata.namespace).toBe("team-registry");
      expect(object.metadata.labels).toMatchObject({ ...names.commonLabels, ...backupNames.podLabels });
    }
  });

  it("sets the CronJob's schedule, time zone, concurrency, deadlines and history limits", async () => {
    const { cronJob } = await rendered(
      configWith("backup.schedule=30 1 * * 0", "backup.timeZone=Europe/Berlin"),
    );
    expect(cronJob.metadata.name.length).toBeLessThanOrEqual(52);
    expect(cronJob.spec).toMatchObject({
      schedule: "30 1 * * 0",
      timeZone: "Europe/Berlin",
      concurrencyPolicy: "Forbid",
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
    });
    expect(cronJob.spec.startingDeadlineSeconds).toBeGreaterThan(0);
    expect(cronJob.spec.schedule).not.toMatch(/TZ=/);
    const job = cronJob.spec.jobTemplate.spec;
    expect(job.backoffLimit).toBeGreaterThanOrEqual(0);
    expect(job.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(job.template.spec.restartPolicy).toBe("Never");
  });

  it("runs archive.sh from the scripts ConfigMap on a pinned image, with the claim mounted read-only", async () => {
    const { pod, container, configMap, cronJob } = await rendered(configWith());
    expect(container.command).toEqual(["/bin/sh", "/scripts/archive.sh"]);
    // By tag and digest (docs/images.md): the tag says which release, the digest pins its bytes.
    expect(container.image).toMatch(/^rclone\/rclone:\d+\.\d+\.\d+@sha256:[a-f0-9]{64}$/);
    const data = pod.volumes.find((v: Any) => v.name === "data");
    expect(data.persistentVolumeClaim).toEqual({ claimName: names.claim, readOnly: true });
    const mount = container.volumeMounts.find((m: Any) => m.name === "data");
    expect(mount).toEqual({ name: "data", mountPath: names.dataPath, readOnly: true });
    const scripts = pod.volumes.find((v: Any) => v.name === "scripts");
    expect(scripts.configMap.name).toBe(configMap.metadata.name);
    expect(container.volumeMounts.find((m: Any) => m.name === "scripts").mountPath).toBe("/scripts");
    // No emptyDir anywhere: it would make `kubectl drain` refuse the pod during a node upgrade.
    expect(pod.volumes.filter((v: Any) => v.emptyDir)).toEqual([]);
    // The scripts go in byte for byte, and the pod records which ones.
    expect(configMap.data["archive.sh"]).toBe(templateText("archive.sh"));
    expect(configMap.data["restore.sh"]).toBe(templateText("restore.sh"));
    expect(
      cronJob.spec.jobTemplate.spec.template.metadata.annotations[backupNames.scriptsAnnotation],
    ).toMatch(/^[a-f0-9]{64}$/);
  });

  it("labels the pods so that the backup NetworkPolicy (and only it) selects them", async () => {
    const { cronJob } = await rendered(configWith());
    const labels = cronJob.spec.jobTemplate.spec.template.metadata.labels;
    expect(labels).toMatchObject(names.backupPodLabels);
    expect(labels["app.kubernetes.io/component"]).not.toBe(
      names.selectorLabels["app.kubernetes.io/component"],
    );
  });

  it("secures the pod like the registry: non-root, no escalation, no capabilities, RuntimeDefault", async () => {
    const { pod, container } = await rendered(configWith());
    expect(pod.securityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: names.registryUser.uid,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(container.resources.limits.memory).toBeDefined();
  });

  it("passes bucket, prefix and region; the region falls back to the cluster's", async () => {
    const a = await rendered(configWith("backup.prefix=registry/prod/"));
    expect(a.env("BACKUP_BUCKET").value).toBe("acme-registry-backups");
    expect(a.env("BACKUP_PREFIX").value).toBe("registry/prod/");
    expect(a.env("BACKUP_REGION").value).toBe("eu-west-1");
    const b = await rendered(configWith("backup.region=us-west-2"));
    expect(b.env("BACKUP_REGION").value).toBe("us-west-2");
  });

  it("passes the retention archive.sh applies after each snapshot: defaults, and the settings", async () => {
    const a = await rendered(configWith());
    expect([a.env("BACKUP_RETENTION_DAYS").value, a.env("BACKUP_KEEP_LAST").value]).toEqual(["30", "7"]);
    const b = await rendered(configWith("backup.retentionDays=14", "backup.keepLast=3"));
    expect([b.env("BACKUP_RETENTION_DAYS").value, b.env("BACKUP_KEEP_LAST").value]).toEqual(["14", "3"]);
  });

  it("irsa: the ServiceAccount carries the role ARN and no keys are in the pod", async () => {
    const { account, pod, env } = await rendered(configWith());
    expect(account.metadata.annotations).toEqual({ "eks.amazonaws.com/role-arn": ROLE });
    expect(pod.serviceAccountName).toBe(account.metadata.name);
    expect(env("AWS_ACCESS_KEY_ID")).toBeUndefined();
  });

  it("irsa without a role ARN is a usage error naming the flag", async () => {
    const config = resolveConfig({
      set: ["backup.bucket=acme-registry-backups", "cluster.region=eu-west-1"],
    }).config;
    const error = await renderBackupObjects(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).hint).toContain("--backup-role-arn");
  });

  it("pod-identity: no annotation (the association lives in EKS) and no keys", async () => {
    const { account, env } = await rendered(configWith("backup.credentials=pod-identity"));
    expect(account.metadata.annotations).toBeUndefined();
    expect(env("AWS_ACCESS_KEY_ID")).toBeUndefined();
  });

  it("secret: static keys from the named Secret, no role annotation", async () => {
    const { account, env } = await rendered(
      configWith("backup.credentials=secret", "backup.secretName=s3-keys"),
    );
    expect(account.metadata.annotations).toBeUndefined();
    expect(env("AWS_ACCESS_KEY_ID").valueFrom).toEqual({
      secretKeyRef: { name: "s3-keys", key: "AWS_ACCESS_KEY_ID" },
    });
    expect(env("AWS_SECRET_ACCESS_KEY").valueFrom.secretKeyRef).toEqual({
      name: "s3-keys",
      key: "AWS_SECRET_ACCESS_KEY",
    });
    expect(env("AWS_SESSION_TOKEN").valueFrom.secretKeyRef.optional).toBe(true);
  });

  it.each([
    ["irsa", []],
    ["pod-identity", ["backup.credentials=pod-identity"]],
    ["secret", ["backup.credentials=secret"]],
  ])("every object validates against the Kubernetes schemas (%s)", async (_name, set) => {
    const { objects } = await rendered(configWith(...set));
    expect(objects.flatMap(backupProblems)).toEqual([]);
  });

  it("the schema checks catch what a server rejects (so a pass above means something)", async () => {
    const { cronJob } = await rendered(configWith());
    const broken = structuredClone(cronJob);
    broken.spec.concurrency = "Forbid";
    broken.spec.startingDeadlineSeconds = "3600";
    const problems = backupProblems(broken);
    expect(problems).toContain(
      "CronJob/registry-clouddrove-backup.spec.concurrency: unknown field of V1CronJobSpec",
    );
    expect(problems).toContain(
      'CronJob/registry-clouddrove-backup.spec.startingDeadlineSeconds: "3600" is not a number',
    );
  });

  it("the templates as they are validate too (what `kubectl apply -f templates/backup/` sends)", () => {
    const files = [
      "serviceaccount.yaml",
      "scripts-configmap.yaml",
      "cronjob.yaml",
      "restore/restore-job.yaml",
    ];
    const objects = files.flatMap((file) =>
      parseAllDocuments(templateText(file), { version: "1.1" }).map((doc) => doc.toJS() as KubeObject),
    );
    expect(objects.map((o) => o.kind)).toEqual(["ServiceAccount", "ConfigMap", "CronJob", "Job"]);
    expect(objects.flatMap(backupProblems)).toEqual([]);
    // Applied alone, the placeholder scripts fail loudly instead of "succeeding" with no archive.
    const configMap = objects[1] as Any;
    expect(configMap.data["archive.sh"]).toMatch(/exit 1/);
  });
});

describe("renderRestoreJob", () => {
  it("restores the given archive into the registry's claim, keeping the old data by default", async () => {
    const job: Any = await renderRestoreJob(configWith(), "clouddrove/20250131T030000Z.tar");
    expect(job.metadata).toMatchObject({ name: backupNames.restoreJob, namespace: "clouddrove" });
    const pod = job.spec.template.spec;
    const container = pod.containers.find((c: Any) => c.name === backupNames.restoreContainer);
    const env = (name: string) => container.env.find((e: Any) => e.name === name)?.value;
    expect(container.command).toEqual(["/bin/sh", "/scripts/restore.sh"]);
    expect(env("RESTORE_KEY")).toBe("clouddrove/20250131T030000Z.tar");
    expect(env("RESTORE_REMOVE_OLD")).toBe("false");
    expect(env("BACKUP_BUCKET")).toBe("acme-registry-backups");
    const data = pod.volumes.find((v: Any) => v.name === "data");
    expect(data.persistentVolumeClaim.claimName).toBe(names.claim);
    expect(data.persistentVolumeClaim.readOnly).toBeUndefined();
    expect(container.volumeMounts.find((m: Any) => m.name === "data").readOnly).toBeUndefined();
    expect(job.spec.template.metadata.labels).toMatchObject(names.backupPodLabels);
    expect(job.spec.backoffLimit).toBe(0);
    // restore.sh runs as the registry's user, so the restored files are the registry's.
    expect(container.securityContext.runAsUser).toBe(names.registryUser.uid);
    expect(backupProblems(job)).toEqual([]);
  });

  it("can restore into another claim, under another name, removing the old data", async () => {
    const job: Any = await renderRestoreJob(
      configWith("backup.credentials=secret", "registry.initImage=alpine:3.21.0"),
      "latest",
      {
        name: "restore-1",
        claimName: "registry-restored",
        removeOld: true,
      },
    );
    const pod = job.spec.template.spec;
    const container = pod.containers[0];
    expect(job.metadata.name).toBe("restore-1");
    expect(pod.initContainers[0].image).toBe("alpine:3.21.0");
    expect(pod.volumes.find((v: Any) => v.name === "data").persistentVolumeClaim.claimName).toBe(
      "registry-restored",
    );
    expect(container.env.find((e: Any) => e.name === "RESTORE_REMOVE_OLD").value).toBe("true");
    expect(container.env.find((e: Any) => e.name === "AWS_ACCESS_KEY_ID").valueFrom.secretKeyRef.name).toBe(
      "clouddrove-backup-aws",
    );
    expect(backupProblems(job)).toEqual([]);
  });
});

describe("jobFromCronJob", () => {
  it("makes the Job `kubectl create job --from=cronjob/...` makes", async () => {
    const { cronJob } = await rendered(configWith());
    cronJob.metadata.uid = "0b7f0c1e-1111-2222-3333-444455556666";
    const job: Any = jobFromCronJob(cronJob, "registry-clouddrove-backup-manual-1");
    expect(job.metadata.name).toBe("registry-clouddrove-backup-manual-1");
    expect(job.metadata.namespace).toBe("clouddrove");
    expect(job.metadata.annotations["cronjob.kubernetes.io/instantiate"]).toBe("manual");
    expect(job.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "CronJob", name: cronJob.metadata.name, uid: cronJob.metadata.uid }),
    ]);
    expect(job.spec).toEqual(cronJob.spec.jobTemplate.spec);
    // A copy: changing the Job leaves the CronJob as it was.
    job.spec.backoffLimit = 99;
    expect(cronJob.spec.jobTemplate.spec.backoffLimit).not.toBe(99);
    expect(backupProblems(job)).toEqual([]);
  });
});
