/**
 * A container's volume mounts made real on the host: ConfigMap and Secret volumes become files (items,
 * modes), emptyDir a per-pod directory, a claim the host directory of its bound PersistentVolume (shared
 * by every pod of that volume), with subPath honoured. The result is a mount table that maps any path
 * inside the container to a host path, the way the container would see the file.
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { KubeObject, ObjectStore } from "../types.js";
import {
  joinInside,
  nodeDirectory,
  persistentVolumeDirectory,
  podVolumeDirectory,
  rootfsDirectory,
} from "./layout.js";

// biome-ignore lint/suspicious/noExplicitAny: pod specs are plain JSON
type Json = any;

export interface Mount {
  /** Absolute path inside the container (a directory, or a file for a subPath of a ConfigMap/Secret). */
  containerPath: string;
  hostPath: string;
  readOnly: boolean;
}

export interface MountTable {
  mounts: Mount[];
  /** The container's own file system, for paths no mount covers. */
  rootfs: string;
  /** What could not be mounted as asked (a missing ConfigMap, an unbound claim), for a pod event. */
  problems: string[];
}

/** The mount whose path is the longest prefix of `path` wins, as in a real mount namespace. */
export function mountFor(table: MountTable, path: string): Mount | undefined {
  let best: Mount | undefined;
  for (const mount of table.mounts) {
    const base = mount.containerPath.replace(/\/+$/, "") || "/";
    const inside = path === base || path.startsWith(base === "/" ? "/" : `${base}/`);
    if (inside && (best === undefined || base.length > best.containerPath.length)) best = mount;
  }
  return best;
}

/** Where the container path `path` is on the host: in a mount, or else in the container's file system. */
export function hostPathOf(table: MountTable, path: string): { hostPath: string; mounted: boolean } {
  const mount = mountFor(table, path);
  if (mount === undefined) return { hostPath: joinInside(table.rootfs, path), mounted: false };
  const base = mount.containerPath.replace(/\/+$/, "");
  return { hostPath: joinInside(mount.hostPath, path.slice(base.length)), mounted: true };
}

interface KeyFile {
  key: string;
  path: string;
  mode?: number;
}

/** Writes the keys of a ConfigMap or Secret as files, as the kubelet's atomic writer lays them out. */
async function writeKeyFiles(
  dir: string,
  values: Map<string, Buffer>,
  items: KeyFile[] | undefined,
  defaultMode: number,
): Promise<string[]> {
  const missing: string[] = [];
  const files: KeyFile[] = items ?? [...values.keys()].map((key) => ({ key, path: key }));
  for (const item of files) {
    const bytes = values.get(item.key);
    if (bytes === undefined) {
      missing.push(item.key);
      continue;
    }
    const target = joinInside(dir, item.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
    await chmod(target, item.mode ?? defaultMode);
  }
  return missing;
}

function configMapValues(configMap: KubeObject): Map<string, Buffer> {
  const values = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(configMap.data ?? {}))
    values.set(key, Buffer.from(String(value)));
  for (const [key, value] of Object.entries(configMap.binaryData ?? {}))
    values.set(key, Buffer.from(String(value), "base64"));
  return values;
}

function secretValues(secret: KubeObject): Map<string, Buffer> {
  const values = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(secret.data ?? {}))
    values.set(key, Buffer.from(String(value), "base64"));
  // The API server turns stringData into data on write; read it anyway for objects stored without that.
  for (const [key, value] of Object.entries(secret.stringData ?? {}))
    values.set(key, Buffer.from(String(value)));
  return values;
}

const DEFAULT_MODE = 0o644;

interface Context {
  store: ObjectStore;
  dataDir: string;
  pod: KubeObject;
  problems: string[];
}

/** Fills `dir` with one ConfigMap or Secret source; a missing object is a problem unless optional. */
async function projectSource(ctx: Context, dir: string, source: Json, mode: number): Promise<void> {
  const namespace = ctx.pod.metadata.namespace;
  const isSecret = source.secretName !== undefined || source.kind === "Secret";
  const name: string = source.secretName ?? source.name;
  const object = ctx.store.get(isSecret ? "Secret" : "ConfigMap", namespace, name);
  const what = `${isSecret ? "secret" : "configmap"} "${name}"`;
  if (object === undefined) {
    if (source.optional !== true) ctx.problems.push(`${what} not found`);
    return;
  }
  const values = isSecret ? secretValues(object) : configMapValues(object);
  const missing = await writeKeyFiles(dir, values, source.items, mode);
  if (missing.length > 0 && source.optional !== true)
    ctx.problems.push(`${what} has no key ${missing.map((k) => JSON.stringify(k)).join(", ")}`);
}

/** The host directory behind one pod volume (written fresh for ConfigMaps and Secrets). */
async function volumeDirectory(ctx: Context, volume: Json): Promise<string> {
  const uid = ctx.pod.metadata.uid ?? "";
  const own = podVolumeDirectory(ctx.dataDir, uid, volume.name);
  if (volume.configMap || volume.secret || volume.projected) {
    // Written anew at each container start: the process reads the files once, at start, as the
    // registry does with its config and htpasswd file.
    await rm(own, { recursive: true, force: true });
    await mkdir(own, { recursive: true });
    if (volume.configMap)
      await projectSource(ctx, own, volume.configMap, volume.configMap.defaultMode ?? DEFAULT_MODE);
    if (volume.secret)
      await projectSource(ctx, own, volume.secret, volume.secret.defaultMode ?? DEFAULT_MODE);
    for (const source of volume.projected?.sources ?? []) {
      const mode = volume.projected.defaultMode ?? DEFAULT_MODE;
      if (source.configMap) await projectSource(ctx, own, source.configMap, mode);
      if (source.secret) await projectSource(ctx, own, { ...source.secret, kind: "Secret" }, mode);
    }
    return own;
  }
  if (volume.persistentVolumeClaim) {
    const claimName: string = volume.persistentVolumeClaim.claimName;
    const claim = ctx.store.get("PersistentVolumeClaim", ctx.pod.metadata.namespace, claimName);
    const pv = claim?.spec?.volumeName
      ? ctx.store.get("PersistentVolume", undefined, claim.spec.volumeName)
      : undefined;
    if (pv === undefined) {
      ctx.problems.push(`persistentvolumeclaim "${claimName}" is not bound to a volume`);
      await mkdir(own, { recursive: true });
      return own;
    }
    const dir = persistentVolumeDirectory(ctx.dataDir, pv);
    await mkdir(dir, { recursive: true });
    return dir;
  }
  if (volume.hostPath?.path) {
    const node = String(ctx.pod.spec?.nodeName ?? "node");
    const dir = nodeDirectory(ctx.dataDir, node, String(volume.hostPath.path));
    await mkdir(dir, { recursive: true });
    return dir;
  }
  // emptyDir and everything else: a directory of the pod's own, kept across container restarts.
  await mkdir(own, { recursive: true });
  return own;
}

/**
 * Materializes the volumes `container` mounts and returns its mount table. ConfigMap and Secret contents
 * are read from the store now, as the kubelet reads them when it starts a container.
 */
export async function materializeMounts(
  store: ObjectStore,
  dataDir: string,
  pod: KubeObject,
  container: Json,
): Promise<MountTable> {
  const ctx: Context = { store, dataDir, pod, problems: [] };
  const rootfs = rootfsDirectory(dataDir, pod.metadata.uid ?? "");
  await mkdir(rootfs, { recursive: true });
  const volumes: Json[] = pod.spec?.volumes ?? [];
  const directories = new Map<string, string>();
  const mounts: Mount[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.find((v) => v.name === mount.name);
    if (volume === undefined) {
      ctx.problems.push(`volume "${mount.name}" is not declared in the pod`);
      continue;
    }
    let dir = directories.get(volume.name);
    if (dir === undefined) {
      dir = await volumeDirectory(ctx, volume);
      directories.set(volume.name, dir);
    }
    let hostPath = dir;
    if (mount.subPath) {
      hostPath = joinInside(dir, String(mount.subPath));
      // The kubelet creates a missing subPath of a writable volume as a directory.
      if (!volume.configMap && !volume.secret && !volume.projected)
        await mkdir(hostPath, { recursive: true });
    }
    mounts.push({ containerPath: String(mount.mountPath), hostPath, readOnly: mount.readOnly === true });
  }
  return { mounts, rootfs, problems: ctx.problems };
}
