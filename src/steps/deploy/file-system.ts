/**
 * `deploy` with EFS storage and no file system id configured: the cluster's file system (tagged for it by
 * `cluster create`) looked up through the EFS API in the cluster's region, with the command's AWS
 * environment. Undefined when the region is unknown or EFS has none; a lookup that fails is a warning, and
 * the deploy then asks for (or exits 2 on) the missing setting as before.
 */
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import type { Config } from "../../config/schema.js";
import {
  accessPointHandle,
  atRoot,
  efsHandleOf,
  installationDirectory,
  otherInstallationsAtRoot,
  rootMigrationSteps,
  rootVolumeWarning,
} from "../../core/deploy/efs-volume.js";
import { names } from "../../core/render/names.js";
import { InterruptedError, UsageError } from "../../errors.js";

export async function clusterFileSystemId(
  config: Config,
  env: NodeJS.ProcessEnv,
  warn: (message: string) => void,
): Promise<string | undefined> {
  if (config.storage.type !== "efs" || config.storage.efs.fileSystemId) return undefined;
  const region = config.cluster.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) return undefined;
  try {
    // Loaded only for this lookup: the AWS SDK costs a deploy that does not need it ~100 MiB and ~0.3 s.
    const { awsClients } = await import("../../adapters/aws.js");
    const { findClusterFileSystem } = await import("../cluster/efs.js");
    const found = await findClusterFileSystem(awsClients(region, env).efs, config.cluster.name);
    return found?.id;
  } catch (error) {
    warn(
      `the EFS file system of cluster ${config.cluster.name} could not be looked up in ${region}: ${(error as Error).message}`,
    );
    return undefined;
  }
}

export interface EfsPlacement {
  /** The PersistentVolume's volumeHandle. */
  handle: string;
  warnings: string[];
}

/**
 * The EFS volume handle of this installation (core/deploy/efs-volume.ts says why): the live volume's as
 * it is (a volume's source never changes); for a new one, the namespace's access point, looked up by tag
 * or created (only looked up in a dry run). Without a region EFS cannot be asked: the volume is then the
 * file system's root as before, with a warning, unless another installation already uses that root.
 */
export async function efsPlacement(
  kube: Kube,
  config: Config,
  registryUser: { uid: number; gid: number },
  env: NodeJS.ProcessEnv,
  options: { dryRun: boolean; signal?: AbortSignal },
): Promise<EfsPlacement | undefined> {
  const fileSystemId = config.storage.efs.fileSystemId;
  if (config.storage.type !== "efs" || !fileSystemId) return undefined;
  const namespace = config.namespace;
  const live = efsHandleOf(await kube.get(named(Kinds.PersistentVolume, names.volume(namespace))));
  if (live) {
    return { handle: live, warnings: atRoot(live) ? [rootVolumeWarning(namespace, fileSystemId)] : [] };
  }
  const atRootElsewhere = otherInstallationsAtRoot(
    await kube.list(Kinds.PersistentVolume),
    fileSystemId,
    namespace,
  );
  if (atRootElsewhere.length > 0) {
    throw new UsageError(
      `The registry in namespace ${atRootElsewhere.join(", ")} uses the root of EFS file system ${fileSystemId}: a restore there would replace this installation's directory too. Nothing was changed.`,
      {
        details: rootMigrationSteps(atRootElsewhere[0] as string, fileSystemId),
        hint: `Move that installation into its own directory first (the steps above), or give this one another file system (--efs-file-system-id).`,
      },
    );
  }
  const region = config.cluster.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const atTheRoot = (why: string): EfsPlacement => ({
    handle: fileSystemId,
    warnings: [
      `${why}: the registry's volume is the root of ${fileSystemId}, which every other installation on it would share. Make EFS reachable (the region, credentials allowed elasticfilesystem:DescribeAccessPoints, CreateAccessPoint and TagResource) before the first deploy to give it its own directory, ${installationDirectory(namespace)}.`,
    ],
  });
  if (!region) {
    return atTheRoot(
      `no AWS region is set (--region, cluster.region, AWS_REGION), so EFS could not be asked for an access point of namespace ${namespace}`,
    );
  }
  try {
    return {
      handle: await accessPointOf(fileSystemId, namespace, region, registryUser, env, options),
      warnings: [],
    };
  } catch (error) {
    // Ctrl-C stops the deploy; only EFS's own failures make the volume the root.
    if (error instanceof InterruptedError) throw error;
    return atTheRoot(
      `EFS could not give namespace ${namespace} an access point (${(error as Error).message})`,
    );
  }
}

/** The handle on the namespace's access point: found by tag, else made (in a dry run, only looked up). */
async function accessPointOf(
  fileSystemId: string,
  namespace: string,
  region: string,
  registryUser: { uid: number; gid: number },
  env: NodeJS.ProcessEnv,
  options: { dryRun: boolean; signal?: AbortSignal },
): Promise<string> {
  const { awsClients } = await import("../../adapters/aws.js");
  const { createAccessPoint, findAccessPoint, waitAccessPointAvailable } = await import(
    "../../adapters/aws/efs-access-points.js"
  );
  const { efs } = awsClients(region, env);
  const found = await findAccessPoint(efs, fileSystemId, namespace);
  if (found) return accessPointHandle(fileSystemId, found.id);
  if (options.dryRun) return accessPointHandle(fileSystemId, "fsap-(made by deploy)");
  const made = await createAccessPoint(efs, {
    fileSystemId,
    namespace,
    rootPath: installationDirectory(namespace),
    ...registryUser,
  });
  await waitAccessPointAvailable(efs, made.id, {
    timeoutMs: 120_000,
    intervalMs: 500,
    maxIntervalMs: 5000,
    signal: options.signal,
  });
  return accessPointHandle(fileSystemId, made.id);
}
