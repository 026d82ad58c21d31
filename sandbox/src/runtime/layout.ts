/**
 * Where the sandbox keeps what real pods would keep on volumes, under one data directory:
 *
 *   <dataDir>/efs/<fs-id>[/<path>]     an EFS file system (every pod of every PV on it shares it)
 *   <dataDir>/nfs/<server><path>       an NFS export
 *   <dataDir>/pv/<pv-name>             any other PersistentVolume (EBS, hostPath, ...)
 *   <dataDir>/pods/<pod-uid>/          one pod: its ConfigMap/Secret/emptyDir volumes and its container
 *                                      file system (paths no volume covers); removed with the pod
 *
 * With a stateDir the data directory is <stateDir>/volumes, so the data outlives the process like a
 * real volume outlives a node; without one it is a temporary directory removed when the sandbox stops.
 */
import { isAbsolute, join, normalize, relative, sep } from "node:path";
import type { KubeObject } from "../types.js";

/** Joins `inner` below `base`, refusing paths that climb out of it (the kubelet refuses `..` too). */
export function joinInside(base: string, inner: string): string {
  const cleaned = normalize(inner.replace(/^\/+/, ""));
  if (cleaned === "." || cleaned === "") return base;
  if (isAbsolute(cleaned) || cleaned === ".." || cleaned.startsWith(`..${sep}`)) {
    throw new Error(`path ${JSON.stringify(inner)} must stay inside its volume`);
  }
  const joined = join(base, cleaned);
  const back = relative(base, joined);
  if (back.startsWith("..")) throw new Error(`path ${JSON.stringify(inner)} must stay inside its volume`);
  return joined;
}

/** A path on one node (hostPath volumes, the node's containerd certs.d): <dataDir>/nodes/<node>/<path>. */
export function nodeDirectory(dataDir: string, node: string, path: string): string {
  return joinInside(joinInside(join(dataDir, "nodes"), node), path);
}

export function podDirectory(dataDir: string, podUid: string): string {
  return join(dataDir, "pods", podUid.replace(/[^A-Za-z0-9-]/g, "_"));
}

/** The container's own file system: where paths outside every volume land (the image's files, VOLUMEs). */
export function rootfsDirectory(dataDir: string, podUid: string): string {
  return join(podDirectory(dataDir, podUid), "rootfs");
}

export function podVolumeDirectory(dataDir: string, podUid: string, volumeName: string): string {
  return join(podDirectory(dataDir, podUid), "volumes", volumeName.replace(/[^A-Za-z0-9._-]/g, "_"));
}

/**
 * The root directory of each access point the sandbox's EFS made, per data directory (one per running
 * sandbox): the AWS side knows access points, the runtime mounts volumes, and this is where they meet.
 */
const accessPointRoots = new Map<string, (accessPointId: string) => string | undefined>();

/** Tells the runtime of `dataDir` where access points are rooted; the returned function forgets it. */
export function useAccessPointRoots(
  dataDir: string,
  rootOf: (accessPointId: string) => string | undefined,
): () => void {
  accessPointRoots.set(dataDir, rootOf);
  return () => accessPointRoots.delete(dataDir);
}

/**
 * The host directory of a PersistentVolume. EFS volume handles come as `fs-id`, `fs-id:/path` or
 * `fs-id::fsap-id` / `fs-id:/path:fsap-id` (aws-efs-csi-driver). An access point the sandbox's EFS made
 * mounts its root directory, as on AWS (two installations on their own access points see different
 * data, and the file system's root sees both); one it does not know gets a directory of its own.
 */
export function persistentVolumeDirectory(dataDir: string, pv: KubeObject): string {
  const spec = pv.spec ?? {};
  const csi = spec.csi;
  if (csi?.driver === "efs.csi.aws.com" && typeof csi.volumeHandle === "string") {
    const [fileSystem = "", path = "", accessPoint = ""] = csi.volumeHandle.split(":");
    let dir = joinInside(join(dataDir, "efs"), fileSystem);
    if (accessPoint) dir = joinInside(dir, accessPointRoots.get(dataDir)?.(accessPoint) ?? accessPoint);
    return path ? joinInside(dir, path) : dir;
  }
  if (spec.nfs?.server) {
    return joinInside(
      joinInside(join(dataDir, "nfs"), String(spec.nfs.server)),
      String(spec.nfs.path ?? "/"),
    );
  }
  return joinInside(join(dataDir, "pv"), pv.metadata.name);
}
