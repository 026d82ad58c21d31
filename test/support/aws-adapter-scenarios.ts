/**
 * The AWS adapters' EC2 security group and EFS calls as one scenario, run against any endpoint (the
 * sandbox's AWS endpoint, moto): a group created once with its NFS rule kept, a file system found by tag,
 * a mount target made and listed, then everything deleted twice (the second time finds nothing to delete,
 * which is not an error).
 */
import { DescribeAccessPointsCommand } from "@aws-sdk/client-efs";
import { expect } from "vitest";
import {
  createAccessPoint,
  findAccessPoint,
  waitAccessPointAvailable,
} from "../../src/adapters/aws/efs-access-points.js";
import {
  type AwsClients,
  createFileSystem,
  createMountTarget,
  deleteFileSystem,
  deleteMountTarget,
  deleteSecurityGroup,
  ensureNfsSecurityGroup,
  findFileSystem,
  findSecurityGroup,
  listMountTargets,
  waitFileSystemAvailable,
  waitMountTargets,
} from "../../src/adapters/aws.js";

const poll = { timeoutMs: 30_000, intervalMs: 20 };
const TAG = { tagKey: "clouddrove.io/cluster", tagValue: "test" };

export interface EfsScenario {
  vpcId: string;
  /** The group allowed to reach NFS (the cluster's). */
  sourceGroupId: string;
  subnetId: string;
  zone: string;
  /**
   * Called while the mount target exists, with the group it uses: EC2 refuses to delete such a group
   * (DependencyViolation); an endpoint that does so checks it here.
   */
  whileMounted?: (groupId: string) => Promise<void>;
  /** The state a new file system and mount target report, when the endpoint is known to give one. */
  createdState?: string;
}

export async function securityGroupAndEfsScenario(clients: AwsClients, scenario: EfsScenario): Promise<void> {
  const { vpcId } = scenario;
  const input = {
    vpcId,
    name: "clouddrove-test-efs",
    sourceGroupId: scenario.sourceGroupId,
    port: 2049,
    tags: { [TAG.tagKey]: TAG.tagValue },
  };
  expect(await findSecurityGroup(clients.ec2, vpcId, input.name)).toBeUndefined();
  const made = await ensureNfsSecurityGroup(clients.ec2, input);
  expect(made.created).toBe(true);
  // Again: the group is found and the existing rule (InvalidPermission.Duplicate) kept.
  expect(await ensureNfsSecurityGroup(clients.ec2, input)).toEqual({ groupId: made.groupId, created: false });
  expect(await findSecurityGroup(clients.ec2, vpcId, input.name)).toBe(made.groupId);

  const fs = await createFileSystem(clients.efs, {
    creationToken: "clouddrove-test",
    tags: { [TAG.tagKey]: TAG.tagValue },
  });
  expect(fs).toMatchObject({ encrypted: true });
  if (scenario.createdState) expect(fs.state).toBe(scenario.createdState);
  expect(await waitFileSystemAvailable(clients.efs, fs.id, poll)).toBe(true);
  expect(await findFileSystem(clients.efs, { ...TAG, creationToken: "x" })).toEqual({
    id: fs.id,
    state: "available",
    encrypted: true,
  });
  const target = await createMountTarget(clients.efs, {
    fileSystemId: fs.id,
    subnetId: scenario.subnetId,
    securityGroupId: made.groupId,
  });
  expect(target).toMatchObject({ zone: scenario.zone, subnetId: scenario.subnetId });
  if (scenario.createdState) expect(target.state).toBe(scenario.createdState);
  await waitMountTargets(clients.efs, fs.id, "available", poll);
  expect(await listMountTargets(clients.efs, fs.id)).toEqual([{ ...target, state: "available" }]);
  await scenario.whileMounted?.(made.groupId);

  await deleteMountTarget(clients.efs, target.id);
  await deleteMountTarget(clients.efs, target.id); // MountTargetNotFound: not an error
  await waitMountTargets(clients.efs, fs.id, { gone: [target.id] }, poll);
  expect(await deleteSecurityGroup(clients.ec2, made.groupId)).toBe(true);
  expect(await deleteSecurityGroup(clients.ec2, made.groupId)).toBe(true); // InvalidGroup.NotFound
  await deleteFileSystem(clients.efs, fs.id);
  await deleteFileSystem(clients.efs, fs.id); // FileSystemNotFound: not an error
  expect(await findFileSystem(clients.efs, { ...TAG, creationToken: "clouddrove-test" })).toBeUndefined();
}

/**
 * EFS access points, one per installation: none before; made with its root directory, owner and POSIX
 * user; found again by its namespace tag; made again with the same client token it is the same one (two
 * deploys racing make one); another namespace gets another.
 */
export async function accessPointScenario(
  clients: AwsClients,
  options: { clientTokenIdempotent: boolean },
): Promise<void> {
  const fs = await createFileSystem(clients.efs, { creationToken: "clouddrove-ap-test", tags: {} });
  await waitFileSystemAvailable(clients.efs, fs.id, poll);
  expect(await findAccessPoint(clients.efs, fs.id, "team-a")).toBeUndefined();
  const wanted = {
    fileSystemId: fs.id,
    namespace: "team-a",
    rootPath: "/clouddrove/team-a",
    uid: 1000,
    gid: 1000,
  };
  const made = await createAccessPoint(clients.efs, wanted);
  expect(made).toMatchObject({ fileSystemId: fs.id, rootPath: "/clouddrove/team-a" });
  expect(made.id).toMatch(/^fsap-/);
  await waitAccessPointAvailable(clients.efs, made.id, poll);
  expect((await findAccessPoint(clients.efs, fs.id, "team-a"))?.id).toBe(made.id);
  // EFS (and the sandbox) refuse a second create with the same client token; moto makes another.
  if (options.clientTokenIdempotent) expect((await createAccessPoint(clients.efs, wanted)).id).toBe(made.id);
  const other = await createAccessPoint(clients.efs, {
    ...wanted,
    namespace: "team-b",
    rootPath: "/clouddrove/team-b",
  });
  expect(other.id).not.toBe(made.id);
  expect((await findAccessPoint(clients.efs, fs.id, "team-b"))?.rootPath).toBe("/clouddrove/team-b");
  const described = await clients.efs.send(new DescribeAccessPointsCommand({ AccessPointId: made.id }));
  expect(described.AccessPoints?.[0]).toMatchObject({
    PosixUser: { Uid: 1000, Gid: 1000 },
    RootDirectory: {
      Path: "/clouddrove/team-a",
      CreationInfo: { OwnerUid: 1000, OwnerGid: 1000, Permissions: "750" },
    },
  });
}
