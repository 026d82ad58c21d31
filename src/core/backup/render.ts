/**
 * The backup objects `deploy` applies when a bucket is configured (ServiceAccount, scripts ConfigMap,
 * CronJob), the one-off restore Job, and a Job made from the CronJob for `backup now`. Templates in
 * templates/backup/ are plain YAML that `kubectl apply` accepts as they are; the values from Config are
 * set here by path, never pasted into text.
 */
import { createHash } from "node:crypto";
import type { V1CronJob } from "@kubernetes/client-node";
import type { Config } from "../../config/schema.js";
import { OperationError, UsageError } from "../../errors.js";
import { readTemplateIn } from "../render/templates.js";
import type { KubeObject } from "../render/types.js";

type Json = Record<string, unknown>;

export const backupNames = {
  serviceAccount: "registry-clouddrove-backup",
  scriptsConfigMap: "registry-clouddrove-backup-scripts",
  cronJob: "registry-clouddrove-backup",
  restoreJob: "registry-clouddrove-restore",
  /** The registry's claim, which the backup mounts read-only and a restore read-write. */
  claim: "registry-clouddrove-data",
  archiveContainer: "archive",
  restoreContainer: "restore",
  scriptsAnnotation: "clouddrove.io/scripts-sha256",
  roleArnAnnotation: "eks.amazonaws.com/role-arn",
  podLabels: { "app.kubernetes.io/component": "backup" },
} as const;

const TEMPLATES = ["serviceaccount.yaml", "scripts-configmap.yaml", "cronjob.yaml"] as const;
const RESTORE_TEMPLATE = "restore/restore-job.yaml";
const SCRIPTS = ["archive.sh", "restore.sh"] as const;

const readTemplateFile = (file: string) => readTemplateIn("backup", file);

async function loadObjects(file: string): Promise<KubeObject[]> {
  const { parseAllDocuments } = await import("yaml");
  const objects: KubeObject[] = [];
  // YAML 1.1, as kubectl reads it.
  for (const doc of parseAllDocuments(await readTemplateFile(file), { version: "1.1" })) {
    if (doc.errors.length > 0) {
      throw new OperationError(`The backup template ${file} is not valid YAML: ${doc.errors[0]?.message}`, {
        hint: "Restore the template from the clouddrove package.",
      });
    }
    const value = doc.toJS() as KubeObject | null;
    if (value) objects.push(value);
  }
  return objects;
}

/** The two scripts exactly as the package ships them. */
export async function backupScripts(): Promise<Record<(typeof SCRIPTS)[number], string>> {
  const [archive, restore] = await Promise.all(SCRIPTS.map((file) => readTemplateFile(file)));
  return { "archive.sh": archive as string, "restore.sh": restore as string };
}

function defect(what: string): OperationError {
  return new OperationError(`The backup templates do not match the renderer: ${what}`, {
    hint: "Restore templates/backup/ from the clouddrove package.",
  });
}

function objectAt(root: Json, ...path: string[]): Json {
  let node: unknown = root;
  for (const step of path) {
    node = typeof node === "object" && node !== null ? (node as Json)[step] : undefined;
    if (typeof node !== "object" || node === null || Array.isArray(node))
      throw defect(`no ${path.join(".")}`);
  }
  return node as Json;
}

function namedIn(list: unknown, name: string, what: string): Json {
  const found = Array.isArray(list) ? (list as Json[]).find((item) => item.name === name) : undefined;
  if (!found) throw defect(`no ${what} named ${name}`);
  return found;
}

function podSpecOf(object: KubeObject): Json {
  return object.kind === "CronJob"
    ? objectAt(object, "spec", "jobTemplate", "spec", "template", "spec")
    : objectAt(object, "spec", "template", "spec");
}

function containerOf(object: KubeObject, name: string): Json {
  return namedIn(podSpecOf(object).containers, name, "container");
}

/** Sets (or adds) a plain env var. */
function setEnv(container: Json, name: string, value: string): void {
  if (!Array.isArray(container.env)) container.env = [];
  const env = container.env as Json[];
  const existing = env.find((item) => item.name === name);
  if (existing) {
    existing.value = value;
    delete existing.valueFrom;
  } else env.push({ name, value });
}

function backupRegion(config: Config): string {
  const region = config.backup.region ?? config.cluster.region;
  if (!region) {
    throw new UsageError("The backup bucket's region is not known", {
      hint: "Set --backup-region (CLOUDDROVE_BACKUP_REGION), or the cluster's --region.",
    });
  }
  return region;
}

/** BACKUP_* values and credentials into one backup/restore container. */
function configureContainer(container: Json, config: Config): void {
  const bucket = config.backup.bucket;
  if (!bucket) throw new UsageError("No backup bucket is configured", { hint: "Set --backup-bucket." });
  setEnv(container, "BACKUP_BUCKET", bucket);
  setEnv(container, "BACKUP_PREFIX", config.backup.prefix);
  setEnv(container, "BACKUP_REGION", backupRegion(config));
  // Retention, applied by archive.sh after each snapshot (restore.sh ignores these).
  setEnv(container, "BACKUP_RETENTION_DAYS", String(config.backup.retentionDays));
  setEnv(container, "BACKUP_KEEP_LAST", String(config.backup.keepLast));
  if (config.backup.endpoint) {
    // An S3-compatible store: the scripts' rclone remote reads these (archive.sh only sets defaults).
    setEnv(container, "RCLONE_CONFIG_BACKUP_PROVIDER", "Other");
    setEnv(container, "RCLONE_CONFIG_BACKUP_ENDPOINT", config.backup.endpoint);
    setEnv(container, "RCLONE_CONFIG_BACKUP_FORCE_PATH_STYLE", "true");
  }
  if (config.backup.credentials === "secret") {
    // Static keys only when asked: IRSA / Pod Identity need no long-lived secret in the cluster.
    const env = container.env as Json[];
    const fromSecret = (name: string, optional: boolean) => ({
      name,
      valueFrom: {
        secretKeyRef: { name: config.backup.secretName, key: name, ...(optional ? { optional } : {}) },
      },
    });
    env.push(
      fromSecret("AWS_ACCESS_KEY_ID", false),
      fromSecret("AWS_SECRET_ACCESS_KEY", false),
      fromSecret("AWS_SESSION_TOKEN", true),
    );
  }
}

function configureServiceAccount(account: KubeObject, config: Config): void {
  if (!account.metadata.annotations) account.metadata.annotations = {};
  const annotations = account.metadata.annotations;
  if (config.backup.credentials === "irsa") {
    if (!config.backup.roleArn) {
      throw new UsageError("backup.credentials is irsa but no IAM role is given", {
        hint: "Set --backup-role-arn (CLOUDDROVE_BACKUP_ROLE_ARN), or --backup-credentials pod-identity.",
      });
    }
    annotations[backupNames.roleArnAnnotation] = config.backup.roleArn;
  } else {
    // Pod Identity: the association lives in the EKS API. Secret: keys come from env.
    delete annotations[backupNames.roleArnAnnotation];
    if (Object.keys(annotations).length === 0) delete account.metadata.annotations;
  }
}

function scriptsDigest(scripts: Record<string, string>): string {
  const hash = createHash("sha256");
  for (const file of SCRIPTS)
    hash
      .update(file)
      .update("\0")
      .update(scripts[file] ?? "")
      .update("\0");
  return hash.digest("hex");
}

/** ServiceAccount, scripts ConfigMap and CronJob, in apply order; [] when no bucket is configured. */
export async function renderBackupObjects(config: Config): Promise<KubeObject[]> {
  if (!config.backup.bucket) return [];
  const objects: KubeObject[] = [];
  for (const file of TEMPLATES) objects.push(...(await loadObjects(file)));
  const scripts = await backupScripts();
  for (const object of objects) {
    object.metadata.namespace = config.namespace;
    if (object.kind === "ServiceAccount") configureServiceAccount(object, config);
    if (object.kind === "ConfigMap") object.data = { ...scripts };
    if (object.kind === "CronJob") {
      const spec = objectAt(object, "spec");
      spec.schedule = config.backup.schedule;
      spec.timeZone = config.backup.timeZone;
      const podMeta = objectAt(object, "spec", "jobTemplate", "spec", "template", "metadata");
      (podMeta.annotations as Json)[backupNames.scriptsAnnotation] = scriptsDigest(scripts);
      configureContainer(containerOf(object, backupNames.archiveContainer), config);
    }
  }
  return objects;
}

export interface RestoreJobOptions {
  /** Job name (default registry-clouddrove-restore). */
  name?: string;
  /** Restore into this claim instead of the registry's own (`--to-claim`). */
  claimName?: string;
  /** Delete the previous data after a successful swap instead of keeping it (default false). */
  removeOld?: boolean;
}

/** The restore Job for one archive: `key` is a full key, a file name under the prefix, or "latest". */
export async function renderRestoreJob(
  config: Config,
  key: string,
  options: RestoreJobOptions = {},
): Promise<KubeObject> {
  const [job] = await loadObjects(RESTORE_TEMPLATE);
  if (job?.kind !== "Job") throw defect(`${RESTORE_TEMPLATE} holds no Job`);
  if (!key.trim())
    throw new UsageError("No archive to restore", { hint: "Pass --from KEY or --from latest." });
  job.metadata.name = options.name ?? backupNames.restoreJob;
  job.metadata.namespace = config.namespace;
  const container = containerOf(job, backupNames.restoreContainer);
  configureContainer(container, config);
  setEnv(container, "RESTORE_KEY", key);
  setEnv(container, "RESTORE_REMOVE_OLD", options.removeOld ? "true" : "false");
  // The same pinned Alpine image the registry's own preparation step uses.
  namedIn(podSpecOf(job).initContainers, "prepare-data-dir", "init container").image =
    config.registry.initImage;
  const data = namedIn(podSpecOf(job).volumes, "data", "volume");
  objectAt(data, "persistentVolumeClaim").claimName = options.claimName ?? backupNames.claim;
  return job;
}

/**
 * A Job from the CronJob's jobTemplate, as `kubectl create job --from=cronjob/...` makes it: same spec,
 * the annotation the CronJob controller recognises as a manual run, owned by the CronJob when its uid is
 * known (so history limits and deletion treat it like a scheduled run).
 */
export function jobFromCronJob(cronJob: V1CronJob, name: string): KubeObject {
  const template = cronJob.spec?.jobTemplate;
  if (typeof template !== "object" || template === null) throw defect("no spec.jobTemplate");
  const copy = structuredClone(template);
  const metadata = copy.metadata ?? {};
  const job: KubeObject = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: cronJob.metadata?.namespace,
      labels: { ...metadata.labels },
      annotations: { ...metadata.annotations, "cronjob.kubernetes.io/instantiate": "manual" },
    },
    spec: copy.spec,
  };
  if (cronJob.metadata?.uid) {
    job.metadata.ownerReferences = [
      {
        apiVersion: "batch/v1",
        kind: "CronJob",
        name: cronJob.metadata.name ?? "",
        uid: cronJob.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
  }
  return job;
}
