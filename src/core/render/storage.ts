/**
 * The PersistentVolume and its claim: size, the efs or nfs source, the binding by name, and the
 * backup-plan annotations that tell an operator how this particular volume can be backed up.
 */
import type { Config } from "../../config/schema.js";
import { UsageError } from "../../errors.js";
import { names } from "./names.js";
import { at } from "./paths.js";
import type { KubeObject } from "./types.js";

/** Fails when the storage settings cannot produce a volume (normally refused earlier, by config). */
export function checkStorage(config: Config): void {
  const { storage } = config;
  if (storage.type === "ebs") {
    throw new UsageError("storage.type 'ebs' cannot hold this registry: EBS volumes are ReadWriteOnce", {
      hint: "Use --storage-type efs (default) or nfs, which every replica can mount at once.",
    });
  }
  if (storage.type === "efs" && !storage.efs.fileSystemId) {
    throw new UsageError("storage.efs.fileSystemId is not set", {
      hint: "Pass --efs-file-system-id fs-... (or CLOUDDROVE_STORAGE_EFS_FILE_SYSTEM_ID); `clouddrove cluster create` records it.",
    });
  }
  if (storage.type === "nfs" && !storage.nfs.server) {
    throw new UsageError("storage.nfs.server is not set", {
      hint: "Pass --nfs-server HOST (or CLOUDDROVE_STORAGE_NFS_SERVER).",
    });
  }
}

/** How to back this volume up, for the claim's and the volume's annotations. */
export function backupAnnotations(config: Config): Record<string, string> {
  const ns = config.namespace;
  const archive =
    "Back up with `clouddrove backup now` (a tar archive in S3, taken while the registry keeps serving)";
  const schedule = config.backup.bucket
    ? ` Scheduled archives go to s3://${config.backup.bucket}/${config.backup.prefix} at "${config.backup.schedule}" (${config.backup.timeZone}).`
    : " No archive is scheduled: set backup.bucket to run one every day.";
  const notes =
    config.storage.type === "efs"
      ? `EFS has no CSI snapshots (efs.csi.aws.com does not implement them, so a VolumeSnapshot never works). ${archive}, or protect file system ${config.storage.efs.fileSystemId} with AWS Backup.${schedule}`
      : `This NFS volume has no CSI snapshots. ${archive}, or with the NFS server's own snapshots of ${config.storage.nfs.server}:${config.storage.nfs.path}.${schedule}`;
  const podName = `$(kubectl -n ${ns} get pod -l ${names.registryPodSelector} -o jsonpath='{.items[0].metadata.name}')`;
  return {
    [names.annotations.backupMethod]: config.storage.type === "efs" ? "s3-archive,aws-backup" : "s3-archive",
    [names.annotations.backupNotes]: notes,
    [names.annotations.backupCopyCommand]:
      `kubectl -n ${ns} cp -c ${names.container} "${podName}":${names.dataPath} ./clouddrove-data`,
  };
}

export function applyStorage(volume: KubeObject, claim: KubeObject, config: Config): void {
  const ns = config.namespace;
  const volumeName = names.volume(ns);
  const annotations = backupAnnotations(config);

  volume.metadata.name = volumeName;
  volume.metadata.annotations = { ...volume.metadata.annotations, ...annotations };
  const volumeSpec = at(volume, "spec");
  at(volumeSpec, "capacity").storage = config.storage.size;
  Object.assign(at(volumeSpec, "claimRef"), { namespace: ns, name: names.claim });
  if (config.storage.type === "efs") {
    at(volumeSpec, "csi").volumeHandle = config.storage.efs.fileSystemId;
  } else {
    delete volumeSpec.csi;
    volumeSpec.nfs = { server: config.storage.nfs.server, path: config.storage.nfs.path };
  }

  claim.metadata.annotations = { ...claim.metadata.annotations, ...annotations };
  const claimSpec = at(claim, "spec");
  claimSpec.volumeName = volumeName;
  at(claimSpec, "resources", "requests").storage = config.storage.size;
}
