/**
 * EFS access points: each registry installation's own directory on the shared file system. An access
 * point roots every mount made through it at its directory (created on first use with the owner and mode
 * of its CreationInfo) and acts as one POSIX user, so an installation can neither see nor replace another's
 * data. Found again by tag; created with a client token derived from the file system and namespace, so
 * two deploys racing make one access point, not two.
 */
import { createHash } from "node:crypto";
import {
  type AccessPointDescription,
  CreateAccessPointCommand,
  DescribeAccessPointsCommand,
  type EFSClient,
} from "@aws-sdk/client-efs";
import { aws, isAwsError } from "./errors.js";
import { type PollOptions, pollUntil } from "./poll.js";

export const ACCESS_POINT_NAMESPACE_TAG = "clouddrove.io/namespace";

export interface AccessPointInfo {
  id: string;
  fileSystemId: string;
  rootPath: string;
  state: string;
}

export interface AccessPointWanted {
  fileSystemId: string;
  namespace: string;
  /** The directory on the file system, e.g. /clouddrove/<namespace>. */
  rootPath: string;
  /** The registry's user and group (its runAsUser/runAsGroup): owner of the directory, and who mounts act as. */
  uid: number;
  gid: number;
}

function info(ap: AccessPointDescription): AccessPointInfo {
  return {
    id: ap.AccessPointId ?? "",
    fileSystemId: ap.FileSystemId ?? "",
    rootPath: ap.RootDirectory?.Path ?? "/",
    state: ap.LifeCycleState ?? "unknown",
  };
}

/** The access point of `namespace` on the file system (by its tag), if there is one. */
export async function findAccessPoint(
  efs: EFSClient,
  fileSystemId: string,
  namespace: string,
): Promise<AccessPointInfo | undefined> {
  let next: string | undefined;
  do {
    const page = await aws(`listing the access points of EFS file system ${fileSystemId}`, () =>
      efs.send(new DescribeAccessPointsCommand({ FileSystemId: fileSystemId, NextToken: next })),
    );
    const found = (page.AccessPoints ?? []).find(
      (ap) =>
        ap.LifeCycleState !== "deleting" &&
        ap.LifeCycleState !== "deleted" &&
        (ap.Tags ?? []).some((t) => t.Key === ACCESS_POINT_NAMESPACE_TAG && t.Value === namespace),
    );
    if (found) return info(found);
    next = page.NextToken;
  } while (next);
  return undefined;
}

/**
 * Creates the access point. Idempotent: EFS refuses a second one with the same client token
 * (AccessPointAlreadyExists), and the one made first, found by its tag, is the answer.
 */
export async function createAccessPoint(efs: EFSClient, wanted: AccessPointWanted): Promise<AccessPointInfo> {
  const action = `creating an EFS access point for namespace ${wanted.namespace}`;
  try {
    return info(await efs.send(createCommand(wanted)));
  } catch (error) {
    if (isAwsError(error, "AccessPointAlreadyExists")) {
      const first = await findAccessPoint(efs, wanted.fileSystemId, wanted.namespace);
      if (first) return first;
    }
    return aws(action, () => Promise.reject(error));
  }
}

function createCommand(wanted: AccessPointWanted): CreateAccessPointCommand {
  return new CreateAccessPointCommand({
    // At most 64 characters: the file system id and the namespace (up to 63) are hashed in.
    ClientToken: clientToken(wanted.fileSystemId, wanted.namespace),
    FileSystemId: wanted.fileSystemId,
    PosixUser: { Uid: wanted.uid, Gid: wanted.gid },
    RootDirectory: {
      Path: wanted.rootPath,
      CreationInfo: { OwnerUid: wanted.uid, OwnerGid: wanted.gid, Permissions: "750" },
    },
    Tags: [
      { Key: "Name", Value: `clouddrove-${wanted.namespace}` },
      { Key: ACCESS_POINT_NAMESPACE_TAG, Value: wanted.namespace },
      { Key: "clouddrove.io/managed-by", Value: "clouddrove" },
    ],
  });
}

function clientToken(fileSystemId: string, namespace: string): string {
  const digest = createHash("sha256").update(`${fileSystemId}/${namespace}`).digest("hex").slice(0, 32);
  return `clouddrove-${digest}`;
}

/** Waits until the access point is available (EFS answers the create while it is still "creating"). */
export async function waitAccessPointAvailable(
  efs: EFSClient,
  id: string,
  poll: Omit<PollOptions, "what">,
): Promise<void> {
  await pollUntil(
    async () => {
      const answer = await aws(`reading EFS access point ${id}`, () =>
        efs.send(new DescribeAccessPointsCommand({ AccessPointId: id })),
      );
      return answer.AccessPoints?.[0]?.LifeCycleState === "available" ? true : undefined;
    },
    { ...poll, what: `EFS access point ${id} to become available` },
  );
}
