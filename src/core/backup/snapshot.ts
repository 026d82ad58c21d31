/**
 * Can the registry's claim be snapshotted, and the VolumeSnapshot that does it. A CSI snapshot needs a
 * CSI volume whose driver implements CreateSnapshot and a VolumeSnapshotClass for that driver. The EFS
 * driver does not implement snapshots (aws-efs-csi-driver answers Unimplemented), and NFS volumes are not
 * CSI at all: for those the answer is no, with what to do instead, before anything is created.
 */
import type { V1ObjectMeta, V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { names } from "../render/names.js";
import type { KubeObject } from "../render/types.js";

export const SNAPSHOT_API = "snapshot.storage.k8s.io/v1";
const DEFAULT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class";
/** Drivers known not to implement CreateSnapshot. */
const NO_SNAPSHOTS: Record<string, string> = {
  "efs.csi.aws.com":
    "EFS does not implement CSI snapshots: the EFS CSI driver answers CreateSnapshot with Unimplemented, " +
    "so a VolumeSnapshot of this claim would never become ready",
};

/** snapshot.storage.k8s.io/v1 VolumeSnapshotClass (a CRD: client-node has no model of it). */
export interface VolumeSnapshotClass {
  metadata?: V1ObjectMeta;
  driver?: string;
}

/** snapshot.storage.k8s.io/v1 VolumeSnapshot: the fields clouddrove reads. */
export interface VolumeSnapshot {
  metadata?: V1ObjectMeta;
  spec?: { source?: { persistentVolumeClaimName?: string }; volumeSnapshotClassName?: string };
  status?: {
    readyToUse?: boolean;
    boundVolumeSnapshotContentName?: string;
    creationTime?: string;
    restoreSize?: string;
    error?: { message?: string };
  };
}

export type SnapshotSupport =
  | { supported: true; driver: string; volume: string; snapshotClass: string }
  | {
      supported: false;
      driver: string | null;
      volume: string | null;
      reason: string;
      /** What works instead, one line each. */
      alternatives: string[];
    };

export interface SnapshotInputs {
  claim: V1PersistentVolumeClaim;
  volume: V1PersistentVolume | undefined;
  classes: VolumeSnapshotClass[];
  /** --snapshot-class; else the driver's default class (or its only one). */
  requestedClass?: string;
  /** For the alternatives: where the scheduled archives go, when configured. */
  archiveLocation?: string;
}

function alternatives(inputs: SnapshotInputs, fileSystemId?: string): string[] {
  const archive = inputs.archiveLocation
    ? `clouddrove backup now: a verified tar archive in ${inputs.archiveLocation}, taken while the registry keeps serving`
    : "clouddrove backup now: a verified tar archive in S3, taken while the registry keeps serving (set backup.bucket and run clouddrove deploy first)";
  const lines = [archive];
  if (fileSystemId) {
    lines.push(
      `AWS Backup, the native snapshot of EFS: protect file system ${fileSystemId} with a backup plan, or once: ` +
        `aws backup start-backup-job --backup-vault-name Default --resource-arn arn:aws:elasticfilesystem:REGION:ACCOUNT:file-system/${fileSystemId} --iam-role-arn ROLE_ARN`,
    );
  }
  return lines;
}

/** Whether the claim's volume can be snapshotted, and with which class. */
export function snapshotSupport(inputs: SnapshotInputs): SnapshotSupport {
  const { claim, volume, classes, requestedClass } = inputs;
  const claimName = claim.metadata?.name ?? "";
  const volumeName: string | null = claim.spec?.volumeName ?? null;
  const unsupported = (driver: string | null, reason: string, fileSystemId?: string): SnapshotSupport => ({
    supported: false,
    driver,
    volume: volumeName,
    reason,
    alternatives: alternatives(inputs, fileSystemId),
  });
  if (!volumeName || !volume) {
    return unsupported(
      null,
      `claim ${claimName} is not bound to a volume yet, so there is nothing to snapshot`,
    );
  }
  if (volume.spec?.nfs) {
    return unsupported(
      null,
      `volume ${volumeName} is an NFS export (server ${volume.spec.nfs.server}); Kubernetes snapshots only CSI volumes. ` +
        "Use the archive, or the NFS server's own snapshots",
    );
  }
  const driver = volume.spec?.csi?.driver;
  if (!driver)
    return unsupported(null, `volume ${volumeName} is not a CSI volume; only CSI volumes have snapshots`);
  const knownReason = NO_SNAPSHOTS[driver];
  if (knownReason) {
    const handle: string = volume.spec?.csi?.volumeHandle ?? "";
    return unsupported(driver, knownReason, handle.split(":")[0] || undefined);
  }
  const forDriver = classes.filter((c) => c.driver === driver);
  if (requestedClass) {
    const found = classes.find((c) => c.metadata?.name === requestedClass);
    if (!found) return unsupported(driver, `there is no VolumeSnapshotClass ${requestedClass}`);
    if (found.driver !== driver) {
      return unsupported(
        driver,
        `VolumeSnapshotClass ${requestedClass} is for driver ${found.driver}, but volume ${volumeName} is ${driver}`,
      );
    }
    return { supported: true, driver, volume: volumeName, snapshotClass: requestedClass };
  }
  const chosen =
    forDriver.find((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true") ??
    (forDriver.length === 1 ? forDriver[0] : undefined);
  if (!chosen) {
    return unsupported(
      driver,
      forDriver.length === 0
        ? `no VolumeSnapshotClass exists for driver ${driver} (install the snapshot-controller and create one)`
        : `several VolumeSnapshotClasses exist for driver ${driver} and none is the default; pass --snapshot-class`,
    );
  }
  return { supported: true, driver, volume: volumeName, snapshotClass: chosen.metadata?.name ?? "" };
}

/** The VolumeSnapshot of `claim` (same namespace), labelled as clouddrove's backup. */
export function volumeSnapshotObject(
  namespace: string,
  claim: string,
  snapshotClass: string,
  name: string,
): KubeObject {
  return {
    apiVersion: SNAPSHOT_API,
    kind: "VolumeSnapshot",
    metadata: {
      name,
      namespace,
      labels: { ...names.commonLabels, ...names.backupPodLabels },
    },
    spec: { volumeSnapshotClassName: snapshotClass, source: { persistentVolumeClaimName: claim } },
  };
}

export interface SnapshotSummary {
  name: string;
  claim: string;
  readyToUse: boolean;
  createdAt: string | null;
  restoreSize: string | null;
  error: string | null;
}

export function summarizeSnapshot(snapshot: VolumeSnapshot): SnapshotSummary {
  return {
    name: snapshot.metadata?.name ?? "",
    claim: snapshot.spec?.source?.persistentVolumeClaimName ?? "",
    readyToUse: snapshot.status?.readyToUse === true,
    // JSON from the server: the model's Date is an RFC 3339 string here.
    createdAt:
      snapshot.status?.creationTime ?? (snapshot.metadata?.creationTimestamp as unknown as string) ?? null,
    restoreSize: snapshot.status?.restoreSize ?? null,
    error: snapshot.status?.error?.message ?? null,
  };
}

/** The snapshots of one claim, oldest first. */
export function snapshotsOfClaim(snapshots: VolumeSnapshot[], claim: string): SnapshotSummary[] {
  return snapshots
    .filter((s) => s.spec?.source?.persistentVolumeClaimName === claim)
    .map(summarizeSnapshot)
    .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
}
