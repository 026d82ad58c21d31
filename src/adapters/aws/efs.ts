/**
 * EFS: the registry's shared file system (encrypted, found again by tag or creation token, so a re-run
 * never makes a second one) and its mount targets, one per worker zone.
 */
import {
  CreateFileSystemCommand,
  CreateMountTargetCommand,
  DeleteFileSystemCommand,
  DeleteMountTargetCommand,
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  type EFSClient,
  type FileSystemDescription,
} from "@aws-sdk/client-efs";
import { aws, isAwsError } from "./errors.js";
import { type PollOptions, pollUntil } from "./poll.js";

export interface FileSystemInfo {
  id: string;
  state: string;
  encrypted: boolean;
}

export interface MountTargetInfo {
  id: string;
  zone: string;
  subnetId: string;
  state: string;
}

function info(fs: FileSystemDescription): FileSystemInfo {
  return {
    id: fs.FileSystemId ?? "",
    state: fs.LifeCycleState ?? "unknown",
    encrypted: fs.Encrypted === true,
  };
}

/** The file system tagged `tagKey=tagValue`, else the one made with `creationToken`. */
export async function findFileSystem(
  efs: EFSClient,
  input: { tagKey: string; tagValue: string; creationToken: string },
): Promise<FileSystemInfo | undefined> {
  let marker: string | undefined;
  do {
    const page = await aws("listing EFS file systems", () =>
      efs.send(new DescribeFileSystemsCommand({ Marker: marker })),
    );
    const tagged = (page.FileSystems ?? []).find(
      (fs) =>
        fs.LifeCycleState !== "deleted" &&
        fs.LifeCycleState !== "deleting" &&
        (fs.Tags ?? []).some((t) => t.Key === input.tagKey && t.Value === input.tagValue),
    );
    if (tagged) return info(tagged);
    marker = page.NextMarker;
  } while (marker);
  const byToken = await aws("looking up the EFS file system", () =>
    efs.send(new DescribeFileSystemsCommand({ CreationToken: input.creationToken })),
  );
  const found = (byToken.FileSystems ?? []).find(
    (fs) => fs.LifeCycleState !== "deleted" && fs.LifeCycleState !== "deleting",
  );
  return found ? info(found) : undefined;
}

export async function createFileSystem(
  efs: EFSClient,
  input: { creationToken: string; tags: Record<string, string> },
): Promise<FileSystemInfo> {
  const answer = await aws("creating the EFS file system", () =>
    efs.send(
      new CreateFileSystemCommand({
        CreationToken: input.creationToken,
        Encrypted: true,
        PerformanceMode: "generalPurpose",
        ThroughputMode: "elastic",
        Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    ),
  );
  return info(answer);
}

export async function waitFileSystemAvailable(efs: EFSClient, id: string, poll: Omit<PollOptions, "what">) {
  return pollUntil(
    async () => {
      const answer = await aws(`reading EFS file system ${id}`, () =>
        efs.send(new DescribeFileSystemsCommand({ FileSystemId: id })),
      );
      const state = answer.FileSystems?.[0]?.LifeCycleState;
      return state === "available" ? true : undefined;
    },
    { ...poll, what: `EFS file system ${id} to become available` },
  );
}

export async function listMountTargets(efs: EFSClient, fileSystemId: string): Promise<MountTargetInfo[]> {
  const answer = await aws(`listing the mount targets of ${fileSystemId}`, () =>
    efs.send(new DescribeMountTargetsCommand({ FileSystemId: fileSystemId })),
  );
  return (answer.MountTargets ?? []).map((m) => ({
    id: m.MountTargetId ?? "",
    zone: m.AvailabilityZoneName ?? "",
    subnetId: m.SubnetId ?? "",
    state: m.LifeCycleState ?? "unknown",
  }));
}

export async function createMountTarget(
  efs: EFSClient,
  input: { fileSystemId: string; subnetId: string; securityGroupId: string },
): Promise<MountTargetInfo> {
  const answer = await aws(`creating a mount target in ${input.subnetId}`, () =>
    efs.send(
      new CreateMountTargetCommand({
        FileSystemId: input.fileSystemId,
        SubnetId: input.subnetId,
        SecurityGroups: [input.securityGroupId],
      }),
    ),
  );
  return {
    id: answer.MountTargetId ?? "",
    zone: answer.AvailabilityZoneName ?? "",
    subnetId: answer.SubnetId ?? input.subnetId,
    state: answer.LifeCycleState ?? "creating",
  };
}

/** Waits until every mount target is available (or, with `gone`, until none of `ids` is listed). */
export async function waitMountTargets(
  efs: EFSClient,
  fileSystemId: string,
  until: "available" | { gone: string[] },
  poll: Omit<PollOptions, "what">,
): Promise<void> {
  await pollUntil(
    async () => {
      const targets = await listMountTargets(efs, fileSystemId);
      if (until === "available") return targets.every((t) => t.state === "available") ? true : undefined;
      return targets.some((t) => until.gone.includes(t.id)) ? undefined : true;
    },
    {
      ...poll,
      what:
        until === "available"
          ? `the mount targets of ${fileSystemId} to become available`
          : `the mount targets of ${fileSystemId} to be deleted`,
    },
  );
}

export async function deleteMountTarget(efs: EFSClient, id: string): Promise<void> {
  try {
    await efs.send(new DeleteMountTargetCommand({ MountTargetId: id }));
  } catch (error) {
    if (isAwsError(error, "MountTargetNotFound")) return;
    await aws(`deleting mount target ${id}`, () => Promise.reject(error));
  }
}

export async function deleteFileSystem(efs: EFSClient, id: string): Promise<void> {
  try {
    await efs.send(new DeleteFileSystemCommand({ FileSystemId: id }));
  } catch (error) {
    if (isAwsError(error, "FileSystemNotFound")) return;
    await aws(`deleting EFS file system ${id}`, () => Promise.reject(error));
  }
}
