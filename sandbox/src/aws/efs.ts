/** EFS (REST-JSON): file systems and mount targets, as clouddrove finds, creates and deletes them. */
import type { ServerResponse } from "node:http";
import type { AwsContext, RestRequest } from "./context.js";
import { AwsServiceError, epochSeconds, sendJsonResult } from "./protocol.js";
import {
  type AccessPointRecord,
  type FileSystemRecord,
  type MountTargetRecord,
  mountTargetIp,
  nextId,
  regionZones,
  SANDBOX_ACCOUNT,
  subnetsOf,
  vpcId,
} from "./state.js";

const PREFIX = "/2015-02-01/";

function fileSystemView(ctx: AwsContext, fs: FileSystemRecord) {
  const { region } = ctx.cluster();
  return {
    OwnerId: SANDBOX_ACCOUNT,
    CreationToken: fs.CreationToken,
    FileSystemId: fs.FileSystemId,
    FileSystemArn: `arn:aws:elasticfilesystem:${region}:${SANDBOX_ACCOUNT}:file-system/${fs.FileSystemId}`,
    CreationTime: epochSeconds(fs.CreationTime),
    LifeCycleState: fs.LifeCycleState,
    Name: fs.Tags.find((t) => t.Key === "Name")?.Value,
    NumberOfMountTargets: ctx.state.mountTargets.filter((m) => m.FileSystemId === fs.FileSystemId).length,
    SizeInBytes: { Value: 6144, ValueInStandard: 6144 },
    PerformanceMode: fs.PerformanceMode,
    Encrypted: fs.Encrypted,
    KmsKeyId: fs.Encrypted
      ? `arn:aws:kms:${region}:${SANDBOX_ACCOUNT}:alias/aws/elasticfilesystem`
      : undefined,
    ThroughputMode: fs.ThroughputMode,
    Tags: fs.Tags,
  };
}

function mountTargetView(ctx: AwsContext, m: MountTargetRecord) {
  const cluster = ctx.cluster();
  const short = cluster.region.replace(/^(\w)\w*-(\w)\w*-(\d+)$/, "$1$2$3");
  return {
    OwnerId: SANDBOX_ACCOUNT,
    MountTargetId: m.MountTargetId,
    FileSystemId: m.FileSystemId,
    SubnetId: m.SubnetId,
    LifeCycleState: m.LifeCycleState,
    IpAddress: m.IpAddress,
    NetworkInterfaceId: m.NetworkInterfaceId,
    AvailabilityZoneId: `${short}-az${regionZones(cluster).indexOf(m.AvailabilityZoneName) + 1}`,
    AvailabilityZoneName: m.AvailabilityZoneName,
    VpcId: vpcId(cluster),
  };
}

function fileSystemOrThrow(ctx: AwsContext, id: string): FileSystemRecord {
  const fs = ctx.state.fileSystems.find((f) => f.FileSystemId === id);
  if (!fs) throw new AwsServiceError("FileSystemNotFound", `File system '${id}' does not exist.`, 404);
  return fs;
}

function accessPointView(ctx: AwsContext, ap: AccessPointRecord) {
  const { region } = ctx.cluster();
  return {
    ClientToken: ap.ClientToken,
    Name: ap.Tags.find((t) => t.Key === "Name")?.Value,
    Tags: ap.Tags,
    AccessPointId: ap.AccessPointId,
    AccessPointArn: `arn:aws:elasticfilesystem:${region}:${SANDBOX_ACCOUNT}:access-point/${ap.AccessPointId}`,
    FileSystemId: ap.FileSystemId,
    PosixUser: ap.PosixUser,
    RootDirectory: { Path: ap.RootDirectory, CreationInfo: ap.CreationInfo },
    OwnerId: SANDBOX_ACCOUNT,
    LifeCycleState: "available",
  };
}

/** Access points: created once per client token, listed by file system or id, deleted by id. */
function handleAccessPoints(
  ctx: AwsContext,
  request: RestRequest,
  response: ServerResponse,
  id: string | undefined,
): void {
  const { method, url } = request;
  const query = url.searchParams;
  ctx.state.accessPoints ??= [];
  const points = ctx.state.accessPoints;
  if (method === "GET" && id === undefined) {
    const fsId = query.get("FileSystemId");
    const pointId = query.get("AccessPointId");
    if (!fsId === !pointId) {
      throw new AwsServiceError("BadRequest", "Exactly one of FileSystemId or AccessPointId is required.");
    }
    if (fsId) fileSystemOrThrow(ctx, fsId);
    const found = points.filter(
      (p) => (!fsId || p.FileSystemId === fsId) && (!pointId || p.AccessPointId === pointId),
    );
    if (pointId && found.length === 0) {
      throw new AwsServiceError("AccessPointNotFound", `Access point '${pointId}' does not exist.`, 404);
    }
    sendJsonResult(response, 200, { AccessPoints: found.map((p) => accessPointView(ctx, p)) });
    return;
  }
  if (method === "POST" && id === undefined) {
    const body = request.input as {
      ClientToken?: string;
      FileSystemId?: string;
      PosixUser?: AccessPointRecord["PosixUser"];
      RootDirectory?: { Path?: string; CreationInfo?: AccessPointRecord["CreationInfo"] };
      Tags?: Array<{ Key: string; Value: string }>;
    };
    fileSystemOrThrow(ctx, body.FileSystemId ?? "");
    const token = body.ClientToken ?? "";
    const again = points.find((p) => p.ClientToken === token && p.FileSystemId === body.FileSystemId);
    // The same client token is the same request: EFS refuses it, naming the access point made then.
    if (again) {
      throw new AwsServiceError(
        "AccessPointAlreadyExists",
        `An access point with client token '${token}' already exists: ${again.AccessPointId}.`,
        409,
      );
    }
    const path = body.RootDirectory?.Path ?? "/";
    if (!path.startsWith("/") || path.split("/").includes("..")) {
      throw new AwsServiceError("BadRequest", `RootDirectory Path '${path}' is not an absolute path.`);
    }
    const point: AccessPointRecord = {
      AccessPointId: nextId(ctx.state, "fsap"),
      FileSystemId: body.FileSystemId as string,
      ClientToken: token,
      RootDirectory: path,
      PosixUser: body.PosixUser,
      CreationInfo: body.RootDirectory?.CreationInfo,
      Tags: body.Tags ?? [],
    };
    points.push(point);
    sendJsonResult(response, 200, { ...accessPointView(ctx, point), LifeCycleState: "creating" });
    return;
  }
  if (method === "DELETE" && id !== undefined) {
    if (!points.some((p) => p.AccessPointId === id)) {
      throw new AwsServiceError("AccessPointNotFound", `Access point '${id}' does not exist.`, 404);
    }
    ctx.state.accessPoints = points.filter((p) => p.AccessPointId !== id);
    sendJsonResult(response, 204, undefined);
    return;
  }
  throw new AwsServiceError("BadRequest", `The sandbox's EFS does not serve ${method} ${url.pathname}.`);
}

export async function handleEfs(
  ctx: AwsContext,
  request: RestRequest,
  response: ServerResponse,
): Promise<void> {
  const { method, url } = request;
  const [collection, id] = url.pathname.slice(PREFIX.length).split("/").map(decodeURIComponent);
  const query = url.searchParams;
  if (collection === "access-points") return handleAccessPoints(ctx, request, response, id);
  if (collection === "file-systems") {
    if (method === "GET" && id === undefined) {
      const fsId = query.get("FileSystemId");
      const token = query.get("CreationToken");
      if (fsId) fileSystemOrThrow(ctx, fsId);
      const found = ctx.state.fileSystems.filter(
        (f) => (!fsId || f.FileSystemId === fsId) && (!token || f.CreationToken === token),
      );
      // One page of at most MaxItems (default 100), continued by NextMarker (the index to start at).
      const start = Number(query.get("Marker") ?? 0) || 0;
      const size = Number(query.get("MaxItems") ?? 100) || 100;
      const page = found.slice(start, start + size);
      return sendJsonResult(response, 200, {
        FileSystems: page.map((f) => fileSystemView(ctx, f)),
        Marker: query.get("Marker") ?? undefined,
        NextMarker: start + size < found.length ? String(start + size) : undefined,
      });
    }
    if (method === "POST" && id === undefined) {
      const body = request.input as {
        CreationToken?: string;
        Encrypted?: boolean;
        PerformanceMode?: string;
        ThroughputMode?: string;
        Tags?: Array<{ Key: string; Value: string }>;
      };
      const token = body.CreationToken ?? "";
      const existing = ctx.state.fileSystems.find((f) => f.CreationToken === token);
      if (existing) {
        throw new AwsServiceError(
          "FileSystemAlreadyExists",
          `File system '${existing.FileSystemId}' already exists with creation token '${token}'`,
          409,
        );
      }
      const fs: FileSystemRecord = {
        FileSystemId: nextId(ctx.state, "fs"),
        CreationToken: token,
        CreationTime: ctx.clock.now(),
        LifeCycleState: "available",
        Encrypted: body.Encrypted === true,
        PerformanceMode: body.PerformanceMode ?? "generalPurpose",
        ThroughputMode: body.ThroughputMode ?? "bursting",
        Tags: body.Tags ?? [],
      };
      ctx.state.fileSystems.push(fs);
      // EFS answers while the file system is still being created; it is available by the next look.
      return sendJsonResult(response, 201, { ...fileSystemView(ctx, fs), LifeCycleState: "creating" });
    }
    if (method === "DELETE" && id !== undefined) {
      const fs = fileSystemOrThrow(ctx, id);
      if (ctx.state.mountTargets.some((m) => m.FileSystemId === id)) {
        throw new AwsServiceError("FileSystemInUse", `File system '${id}' has mount targets.`, 409);
      }
      ctx.state.fileSystems = ctx.state.fileSystems.filter((f) => f !== fs);
      return sendJsonResult(response, 204, undefined);
    }
  }
  if (collection === "mount-targets") {
    if (method === "GET" && id === undefined) {
      const fsId = query.get("FileSystemId");
      const targetId = query.get("MountTargetId");
      if (!fsId && !targetId) {
        throw new AwsServiceError(
          "BadRequest",
          "Exactly one of FileSystemId, MountTargetId or AccessPointId is required.",
        );
      }
      if (fsId) fileSystemOrThrow(ctx, fsId);
      const found = ctx.state.mountTargets.filter(
        (m) => (!fsId || m.FileSystemId === fsId) && (!targetId || m.MountTargetId === targetId),
      );
      if (targetId && found.length === 0) {
        throw new AwsServiceError("MountTargetNotFound", `Mount target '${targetId}' does not exist.`, 404);
      }
      return sendJsonResult(response, 200, { MountTargets: found.map((m) => mountTargetView(ctx, m)) });
    }
    if (method === "POST" && id === undefined) {
      const body = request.input as { FileSystemId?: string; SubnetId?: string; SecurityGroups?: string[] };
      fileSystemOrThrow(ctx, body.FileSystemId ?? "");
      const subnet = subnetsOf(ctx.cluster()).find((s) => s.SubnetId === body.SubnetId);
      if (!subnet)
        throw new AwsServiceError("SubnetNotFound", `The subnet ID '${body.SubnetId}' does not exist`);
      const groups = body.SecurityGroups ?? [];
      const unknown = groups.filter((g) => !ctx.state.securityGroups.some((s) => s.GroupId === g));
      if (unknown.length > 0) {
        throw new AwsServiceError(
          "SecurityGroupNotFound",
          `The security group '${unknown[0]}' does not exist`,
        );
      }
      const taken = ctx.state.mountTargets.some(
        (m) => m.FileSystemId === body.FileSystemId && m.AvailabilityZoneName === subnet.AvailabilityZone,
      );
      if (taken) {
        throw new AwsServiceError("MountTargetConflict", `mount target already exists in this AZ`, 409);
      }
      const target: MountTargetRecord = {
        MountTargetId: nextId(ctx.state, "fsmt"),
        FileSystemId: body.FileSystemId as string,
        SubnetId: subnet.SubnetId,
        AvailabilityZoneName: subnet.AvailabilityZone,
        IpAddress: mountTargetIp(subnet, ctx.state.counter),
        NetworkInterfaceId: nextId(ctx.state, "eni"),
        SecurityGroups: groups,
        LifeCycleState: "available",
      };
      ctx.state.mountTargets.push(target);
      return sendJsonResult(response, 200, { ...mountTargetView(ctx, target), LifeCycleState: "creating" });
    }
    if (method === "DELETE" && id !== undefined) {
      if (!ctx.state.mountTargets.some((m) => m.MountTargetId === id)) {
        throw new AwsServiceError("MountTargetNotFound", `Mount target '${id}' does not exist.`, 404);
      }
      ctx.state.mountTargets = ctx.state.mountTargets.filter((m) => m.MountTargetId !== id);
      return sendJsonResult(response, 204, undefined);
    }
  }
  throw new AwsServiceError("BadRequest", `The sandbox's EFS does not serve ${method} ${url.pathname}.`);
}
