/**
 * Where an installation's data lives on EFS. Each installation (one namespace) gets its own EFS access
 * point rooted at /clouddrove/<namespace>, so its PersistentVolume's handle is `fs-X::fsap-Y` (the EFS
 * CSI driver's form) and a second installation on the same file system, or a restore there, never sees
 * or replaces this one's data. A PersistentVolume's source cannot change once made, so a volume made
 * before this (its handle the bare `fs-X`, the file system's root) is kept as it is and the way to move
 * it is explained; a new installation next to one at the root is refused, since a restore at the root
 * would replace the new one's directory too.
 */
import type { V1PersistentVolume } from "@kubernetes/client-node";
import { names } from "../render/names.js";
import type { KubeObject } from "../render/types.js";

/** The directory of a namespace's installation on the file system. */
export const installationDirectory = (namespace: string) => `/clouddrove/${namespace}`;

export interface VolumeHandle {
  fileSystemId: string;
  /** A subdirectory of the file system (`fs-X:/path`), if any. */
  path?: string;
  accessPointId?: string;
}

/** `fs-X`, `fs-X:/path`, `fs-X::fsap-Y` or `fs-X:/path:fsap-Y` (aws-efs-csi-driver). */
export function parseVolumeHandle(handle: string): VolumeHandle {
  const [fileSystemId = "", path = "", accessPointId = ""] = handle.split(":");
  return { fileSystemId, path: path || undefined, accessPointId: accessPointId || undefined };
}

export const accessPointHandle = (fileSystemId: string, accessPointId: string) =>
  `${fileSystemId}::${accessPointId}`;

/** Whether a volume handle mounts the file system's root (neither a path nor an access point). */
export const atRoot = (handle: string) => {
  const parsed = parseVolumeHandle(handle);
  return !parsed.path && !parsed.accessPointId;
};

/** The EFS volume handle of a PersistentVolume, when it is one. */
export function efsHandleOf(volume: V1PersistentVolume | undefined): string | undefined {
  const csi = volume?.spec?.csi;
  return csi?.driver === "efs.csi.aws.com" ? csi.volumeHandle : undefined;
}

/** The namespaces whose registry volume mounts the root of `fileSystemId`, other than `namespace`. */
export function otherInstallationsAtRoot(
  volumes: V1PersistentVolume[],
  fileSystemId: string,
  namespace: string,
): string[] {
  return volumes.flatMap((volume) => {
    const handle = efsHandleOf(volume);
    const claimNamespace = volume.spec?.claimRef?.namespace;
    if (!handle || !claimNamespace || claimNamespace === namespace) return [];
    const parsed = parseVolumeHandle(handle);
    return parsed.fileSystemId === fileSystemId && atRoot(handle) ? [claimNamespace] : [];
  });
}

/** The steps that move an installation whose volume is the file system's root into its own directory. */
export function rootMigrationSteps(namespace: string, fileSystemId: string): string[] {
  const volume = names.volume(namespace);
  return [
    `clouddrove backup now --namespace ${namespace}   (an archive of the registry's data in S3)`,
    `kubectl -n ${namespace} scale deployment ${names.deployment} --replicas 0`,
    `kubectl -n ${namespace} delete pvc ${names.claim} && kubectl delete pv ${volume}   (the data stays on ${fileSystemId}: the volume's reclaim policy is Retain)`,
    `clouddrove deploy --namespace ${namespace}   (a new volume on the installation's own access point, ${installationDirectory(namespace)})`,
    `clouddrove backup restore --namespace ${namespace} --from latest   (the data back, into the new directory)`,
    `then, once the registry serves its images again, remove the old files at the root of ${fileSystemId} (everything but /clouddrove) from a pod or instance that mounts it`,
  ];
}

/** Said on every deploy of an installation whose volume is still the file system's root. */
export function rootVolumeWarning(namespace: string, fileSystemId: string): string {
  return (
    `the registry's volume in namespace ${namespace} is the root of EFS file system ${fileSystemId} (made before each installation got its own access point, or when EFS could not be asked for one); ` +
    `it is kept as it is, data included, but any other installation on ` +
    `${fileSystemId} is visible to it and a restore here would replace theirs. To move it into ${installationDirectory(namespace)}: ` +
    rootMigrationSteps(namespace, fileSystemId)
      .map((step, i) => `(${i + 1}) ${step}`)
      .join("; ")
  );
}

/** The registry's user and group (runAsUser/runAsGroup of its container): the access point's owner. */
export function registryUser(objects: KubeObject[]): { uid: number; gid: number } {
  const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === names.deployment);
  // biome-ignore lint/suspicious/noExplicitAny: the rendered template's container, read for two numbers
  const containers: any[] = (deployment as any)?.spec?.template?.spec?.containers ?? [];
  const context = containers.find((c) => c.name === names.container)?.securityContext ?? {};
  return { uid: Number(context.runAsUser ?? 1000), gid: Number(context.runAsGroup ?? 1000) };
}

/** Points the rendered PersistentVolume at `handle`. */
export function placeEfsVolume(objects: KubeObject[], handle: string): void {
  for (const object of objects) {
    if (object.kind !== "PersistentVolume") continue;
    // biome-ignore lint/suspicious/noExplicitAny: the rendered template's csi source
    const csi = (object as any).spec?.csi;
    if (csi) csi.volumeHandle = handle;
  }
}
