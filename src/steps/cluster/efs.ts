/**
 * Shared storage for the registry: an encrypted EFS file system (found again by tag on a re-run), a
 * security group admitting NFS from the nodes, and a mount target in each worker zone's subnet.
 * Idempotent: what exists is kept, only what is missing is created.
 */
import type { EFSClient } from "@aws-sdk/client-efs";
import type { ListrTask } from "listr2";
import {
  createFileSystem,
  createMountTarget,
  describeCluster,
  ensureNfsSecurityGroup,
  findFileSystem,
  listMountTargets,
  mountTargetSubnets,
  waitFileSystemAvailable,
  waitMountTargets,
} from "../../adapters/aws.js";
import {
  CLUSTER_TAG,
  efsCreationToken,
  efsSecurityGroupName,
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  NFS_PORT,
} from "../../core/cluster/constants.js";
import { OperationError } from "../../errors.js";
import type { ClusterContext } from "./context.js";

export interface EfsStepOptions {
  /** Deadline for each wait on AWS, and the interval between looks. */
  timeoutMs: number;
  pollIntervalMs: number;
  signal?: AbortSignal;
}

export function clusterTags(cluster: string): Record<string, string> {
  return { [MANAGED_BY_TAG]: MANAGED_BY_VALUE, [CLUSTER_TAG]: cluster };
}

/** The cluster's file system: the one tagged for it, else the one made with its creation token. */
export function findClusterFileSystem(efs: EFSClient, clusterName: string) {
  return findFileSystem(efs, {
    tagKey: CLUSTER_TAG,
    tagValue: clusterName,
    creationToken: efsCreationToken(clusterName),
  });
}

export function efsTask(options: EfsStepOptions): ListrTask<ClusterContext> {
  const poll = { timeoutMs: options.timeoutMs, intervalMs: options.pollIntervalMs, signal: options.signal };
  return {
    title: "Shared storage: EFS file system with a mount target in each zone",
    task: async (context, task) => {
      if (!context.clients) throw new Error("the EFS step needs AWS clients");
      const { efs, ec2, eks } = context.clients;
      const { name, zones } = context.values;
      const cluster = await describeCluster(eks, name);
      context.described = cluster;
      if (!cluster?.vpcId || !cluster.clusterSecurityGroupId) {
        throw new OperationError(
          `EKS does not describe cluster ${name} with a VPC and a cluster security group.`,
          {
            hint: "The cluster may still be creating or may have failed; check `eksctl get cluster`, then run again.",
          },
        );
      }

      let fileSystem = await findClusterFileSystem(efs, name);
      if (fileSystem) {
        task.output = `Found EFS file system ${fileSystem.id}`;
      } else {
        fileSystem = await createFileSystem(efs, {
          creationToken: efsCreationToken(name),
          tags: { Name: `clouddrove-${name}`, ...clusterTags(name) },
        });
        context.createdFileSystem = true;
        task.output = `Created encrypted EFS file system ${fileSystem.id}; waiting for it`;
        context.done.push(`created EFS file system ${fileSystem.id}`);
      }
      context.fileSystemId = fileSystem.id;
      await waitFileSystemAvailable(efs, fileSystem.id, poll);

      const group = await ensureNfsSecurityGroup(ec2, {
        vpcId: cluster.vpcId,
        name: efsSecurityGroupName(name),
        sourceGroupId: cluster.clusterSecurityGroupId,
        port: NFS_PORT,
        tags: clusterTags(name),
      });
      task.output = `${group.created ? "Created" : "Found"} security group ${group.groupId} (NFS from the nodes)`;

      const existing = await listMountTargets(efs, fileSystem.id);
      const missingZones = zones.filter((zone) => !existing.some((m) => m.zone === zone));
      if (missingZones.length > 0) {
        const subnets = await mountTargetSubnets(ec2, cluster.vpcId, missingZones);
        for (const zone of missingZones) {
          const subnetId = subnets.get(zone);
          if (!subnetId) {
            throw new OperationError(`The cluster's VPC ${cluster.vpcId} has no subnet in ${zone}.`, {
              hint: "The cluster was not created across this zone; recreate it with the zones it should span.",
            });
          }
          const target = await createMountTarget(efs, {
            fileSystemId: fileSystem.id,
            subnetId,
            securityGroupId: group.groupId,
          });
          context.mountTargetsCreated.push(target.id);
          task.output = `Created mount target ${target.id} in ${zone}`;
        }
        context.done.push(`created EFS mount targets in ${missingZones.join(", ")}`);
      }
      task.output = "Waiting for the mount targets to become available";
      await waitMountTargets(efs, fileSystem.id, "available", poll);
      task.title = `Shared storage: EFS ${fileSystem.id}, mount targets in ${zones.join(", ")}`;
    },
  };
}
