/**
 * `deploy` with EFS storage and no file system id configured: the cluster's file system (tagged for it by
 * `cluster create`) looked up through the EFS API in the cluster's region, with the command's AWS
 * environment. Undefined when the region is unknown or EFS has none; a lookup that fails is a warning, and
 * the deploy then asks for (or exits 2 on) the missing setting as before.
 */
import type { Config } from "../../config/schema.js";

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
