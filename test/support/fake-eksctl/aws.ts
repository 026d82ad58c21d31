/**
 * A small fake AWS account for the cluster tests, behind aws-sdk-client-mock: the real SDK clients that
 * clouddrove creates send their commands here. The answers have the shape (and realistic values) of the
 * real services'; the state (cluster, file systems, mount targets, security groups) changes as
 * clouddrove calls, so a second run sees what the first one made.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeAvailabilityZonesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  EC2Client,
  type Filter,
} from "@aws-sdk/client-ec2";
import {
  CreateFileSystemCommand,
  CreateMountTargetCommand,
  DeleteFileSystemCommand,
  DeleteMountTargetCommand,
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  EFSClient,
  type FileSystemDescription,
  type MountTargetDescription,
} from "@aws-sdk/client-efs";
import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeClusterVersionsCommand,
  EKSClient,
  ResourceNotFoundException,
} from "@aws-sdk/client-eks";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { fakeBackupAws } from "./aws-backup.js";

export const ACCOUNT = "123456789012";
const META = { httpStatusCode: 200, requestId: "8f2a6c1e-3d4b-4c5a-9e8f-0a1b2c3d4e5f", attempts: 1 };

export interface FakeAwsOptions {
  region?: string;
  /** The zones DescribeAvailabilityZones lists (default the region's a, b, c). */
  zones?: string[];
  /** Minors DescribeClusterVersions lists (default 1.31 - 1.34; the one before the newest is EKS's default). */
  versions?: string[];
  /** Of those, the minors in extended support (none by default). */
  extended?: string[];
  /** Whether EKS has the cluster; a function so it can follow the fake eksctl's record. */
  clusterExists?: () => boolean;
  clusterName?: string;
  /** The API server URL DescribeCluster reports (the sandbox's, in tests that have one). */
  endpoint?: string;
  /** Make STS fail as the SDK does without credentials. */
  noCredentials?: boolean;
  /** S3 bucket names another account holds. */
  foreignBuckets?: string[];
}

/** The cluster's OIDC issuer DescribeCluster reports; eksctl (iam.withOIDC) registers its provider. */
export const ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/0F1E2D3C4B5A69788796A5B4C3D2E1F0";

export interface FakeAwsState {
  fileSystems: FileSystemDescription[];
  mountTargets: MountTargetDescription[];
  securityGroups: Array<{ GroupId: string; GroupName: string; VpcId: string; ingress: unknown[] }>;
}

export type FakeAws = ReturnType<typeof fakeAws>;

const VPC = "vpc-0a1b2c3d4e5f60718";
const CLUSTER_SG = "sg-0c1d2e3f4a5b6c7d8";

function zoneId(region: string, zone: string): string {
  const short = region.replace(/^(\w)\w*-(\w)\w*-(\d+)$/, "$1$2$3");
  return `${short}-az${zone.charCodeAt(zone.length - 1) - 96}`;
}

function subnets(zones: string[]) {
  return zones.flatMap((zone, i) => [
    {
      SubnetId: `subnet-0pub${i}a1b2c3d4e5f6`,
      AvailabilityZone: zone,
      VpcId: VPC,
      CidrBlock: `192.168.${i * 32}.0/19`,
      MapPublicIpOnLaunch: true,
      State: "available" as const,
      Tags: [{ Key: "kubernetes.io/role/elb", Value: "1" }],
    },
    {
      SubnetId: `subnet-0prv${i}a1b2c3d4e5f6`,
      AvailabilityZone: zone,
      VpcId: VPC,
      CidrBlock: `192.168.${96 + i * 32}.0/19`,
      MapPublicIpOnLaunch: false,
      State: "available" as const,
      Tags: [{ Key: "kubernetes.io/role/internal-elb", Value: "1" }],
    },
  ]);
}

function filterValue(filters: Filter[] | undefined, name: string): string[] | undefined {
  return filters?.find((f) => f.Name === name)?.Values;
}

export function fakeAws(options: FakeAwsOptions = {}) {
  const region = options.region ?? "eu-west-1";
  const zones = options.zones ?? ["a", "b", "c"].map((z) => `${region}${z}`);
  const versions = options.versions ?? ["1.31", "1.32", "1.33", "1.34"];
  const clusterName = options.clusterName ?? "clouddrove";
  const exists = options.clusterExists ?? (() => false);
  const allSubnets = subnets(zones.slice(0, 3));
  const state: FakeAwsState = { fileSystems: [], mountTargets: [], securityGroups: [] };
  let counter = 0;
  const id = (prefix: string) => `${prefix}-0${(++counter).toString(16).padStart(16, "9")}`;

  const sts = mockClient(STSClient);
  if (options.noCredentials) {
    const error = new Error("Could not load credentials from any providers");
    error.name = "CredentialsProviderError";
    sts.on(GetCallerIdentityCommand).rejects(error);
  } else {
    sts.on(GetCallerIdentityCommand).resolves({
      $metadata: META,
      UserId: "AIDAXEXAMPLE7ANQ2EXAMPLE",
      Account: ACCOUNT,
      Arn: `arn:aws:iam::${ACCOUNT}:user/ci-deployer`,
    });
  }

  const ec2 = mockClient(EC2Client);
  ec2.on(DescribeAvailabilityZonesCommand).resolves({
    $metadata: META,
    AvailabilityZones: zones.map((zone) => ({
      State: "available",
      OptInStatus: "opt-in-not-required",
      Messages: [],
      RegionName: region,
      ZoneName: zone,
      ZoneId: zoneId(region, zone),
      GroupName: region,
      NetworkBorderGroup: region,
      ZoneType: "availability-zone",
    })),
  });
  ec2.on(DescribeSubnetsCommand).callsFake((input: { SubnetIds?: string[]; Filters?: Filter[] }) => {
    const vpc = filterValue(input.Filters, "vpc-id");
    const found = allSubnets.filter(
      (s) => (!input.SubnetIds || input.SubnetIds.includes(s.SubnetId)) && (!vpc || vpc.includes(s.VpcId)),
    );
    return { $metadata: META, Subnets: found };
  });
  ec2.on(DescribeSecurityGroupsCommand).callsFake((input: { Filters?: Filter[] }) => {
    const names = filterValue(input.Filters, "group-name");
    const vpcs = filterValue(input.Filters, "vpc-id");
    return {
      $metadata: META,
      SecurityGroups: state.securityGroups
        .filter((g) => (!names || names.includes(g.GroupName)) && (!vpcs || vpcs.includes(g.VpcId)))
        .map((g) => ({ GroupId: g.GroupId, GroupName: g.GroupName, VpcId: g.VpcId, OwnerId: ACCOUNT })),
    };
  });
  ec2.on(CreateSecurityGroupCommand).callsFake((input: { GroupName: string; VpcId: string }) => {
    const group = { GroupId: id("sg"), GroupName: input.GroupName, VpcId: input.VpcId, ingress: [] };
    state.securityGroups.push(group);
    return { $metadata: META, GroupId: group.GroupId };
  });
  ec2
    .on(AuthorizeSecurityGroupIngressCommand)
    .callsFake((input: { GroupId: string; IpPermissions: unknown[] }) => {
      const group = state.securityGroups.find((g) => g.GroupId === input.GroupId);
      if (group && group.ingress.length > 0) {
        const error = new Error(
          `the specified rule "peer: ${CLUSTER_SG}, TCP, from port: 2049" already exists`,
        );
        error.name = "InvalidPermission.Duplicate";
        throw error;
      }
      group?.ingress.push(...input.IpPermissions);
      return { $metadata: META, Return: true };
    });
  ec2.on(DeleteSecurityGroupCommand).callsFake((input: { GroupId: string }) => {
    if (state.mountTargets.some((m) => m.LifeCycleState !== "deleted")) {
      const error = new Error(`resource ${input.GroupId} has a dependent object`);
      error.name = "DependencyViolation";
      throw error;
    }
    state.securityGroups = state.securityGroups.filter((g) => g.GroupId !== input.GroupId);
    return { $metadata: META, Return: true };
  });

  const eks = mockClient(EKSClient);
  eks.on(DescribeClusterVersionsCommand).resolves({
    $metadata: META,
    clusterVersions: versions.map((v, i) => ({
      clusterVersion: v,
      clusterType: "eks",
      defaultPlatformVersion: "eks.9",
      defaultVersion: i === versions.length - 2,
      ...(options.extended?.includes(v)
        ? { status: "extended-support" as const, versionStatus: "EXTENDED_SUPPORT" as const }
        : { status: "standard-support" as const, versionStatus: "STANDARD_SUPPORT" as const }),
      kubernetesPatchVersion: `${v}.4`,
    })),
  });
  eks.on(DescribeClusterCommand).callsFake((input: { name: string }) => {
    if (input.name !== clusterName || !exists()) {
      throw new ResourceNotFoundException({
        message: `No cluster found for name: ${input.name}.`,
        $metadata: { ...META, httpStatusCode: 404 },
        clusterName: input.name,
      });
    }
    return {
      $metadata: META,
      cluster: {
        name: clusterName,
        arn: `arn:aws:eks:${region}:${ACCOUNT}:cluster/${clusterName}`,
        version: "1.33",
        endpoint:
          options.endpoint ?? "https://0F1E2D3C4B5A69788796A5B4C3D2E1F0.gr7.eu-west-1.eks.amazonaws.com",
        roleArn: `arn:aws:iam::${ACCOUNT}:role/eksctl-${clusterName}-cluster-ServiceRole-AbCdEf`,
        resourcesVpcConfig: {
          subnetIds: allSubnets.map((s) => s.SubnetId),
          securityGroupIds: ["sg-0aa1bb2cc3dd4ee5f"],
          clusterSecurityGroupId: CLUSTER_SG,
          vpcId: VPC,
          endpointPublicAccess: true,
          endpointPrivateAccess: false,
          publicAccessCidrs: ["0.0.0.0/0"],
        },
        status: "ACTIVE",
        identity: { oidc: { issuer: ISSUER } },
        platformVersion: "eks.9",
        tags: { "clouddrove.io/managed-by": "clouddrove", "clouddrove.io/cluster": clusterName },
      },
    };
  });
  eks.on(DescribeAddonCommand).callsFake((input: { addonName: string }) => ({
    $metadata: META,
    addon: {
      addonName: input.addonName,
      clusterName,
      status: "ACTIVE",
      addonVersion: "v1.19.6-eksbuild.1",
      configurationValues: input.addonName === "vpc-cni" ? '{"enableNetworkPolicy": "true"}' : undefined,
    },
  }));

  const efs = mockClient(EFSClient);
  const live = () => state.fileSystems.filter((f) => f.LifeCycleState !== "deleted");
  efs.on(DescribeFileSystemsCommand).callsFake((input: { FileSystemId?: string; CreationToken?: string }) => {
    const found = live().filter(
      (f) =>
        (!input.FileSystemId || f.FileSystemId === input.FileSystemId) &&
        (!input.CreationToken || f.CreationToken === input.CreationToken),
    );
    if (input.FileSystemId && found.length === 0) {
      const error = new Error(`File system '${input.FileSystemId}' does not exist.`);
      error.name = "FileSystemNotFound";
      throw error;
    }
    return { $metadata: META, FileSystems: found };
  });
  efs
    .on(CreateFileSystemCommand)
    .callsFake((input: { CreationToken: string; Tags?: Array<{ Key: string; Value: string }> }) => {
      const fileSystemId = `fs-0${(++counter).toString(16).padStart(16, "a")}`;
      const description: FileSystemDescription = {
        OwnerId: ACCOUNT,
        CreationToken: input.CreationToken,
        FileSystemId: fileSystemId,
        FileSystemArn: `arn:aws:elasticfilesystem:${region}:${ACCOUNT}:file-system/${fileSystemId}`,
        CreationTime: new Date("2026-01-01T12:20:00Z"),
        LifeCycleState: "creating",
        NumberOfMountTargets: 0,
        SizeInBytes: { Value: 6144 },
        PerformanceMode: "generalPurpose",
        Encrypted: true,
        KmsKeyId: `arn:aws:kms:${region}:${ACCOUNT}:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d`,
        ThroughputMode: "elastic",
        Tags: input.Tags,
      };
      state.fileSystems.push({ ...description, LifeCycleState: "available" });
      return { $metadata: META, ...description };
    });
  efs.on(DeleteFileSystemCommand).callsFake((input: { FileSystemId: string }) => {
    const fs = state.fileSystems.find((f) => f.FileSystemId === input.FileSystemId);
    if (fs) fs.LifeCycleState = "deleted";
    return { $metadata: META };
  });
  efs.on(DescribeMountTargetsCommand).callsFake((input: { FileSystemId: string }) => ({
    $metadata: META,
    MountTargets: state.mountTargets.filter(
      (m) => m.FileSystemId === input.FileSystemId && m.LifeCycleState !== "deleted",
    ),
  }));
  efs.on(CreateMountTargetCommand).callsFake((input: { FileSystemId: string; SubnetId: string }) => {
    const subnet = allSubnets.find((s) => s.SubnetId === input.SubnetId);
    const target: MountTargetDescription = {
      OwnerId: ACCOUNT,
      MountTargetId: id("fsmt"),
      FileSystemId: input.FileSystemId,
      SubnetId: input.SubnetId,
      LifeCycleState: "creating",
      IpAddress: `192.168.${subnet ? allSubnets.indexOf(subnet) * 16 + 100 : 1}.25`,
      NetworkInterfaceId: id("eni"),
      AvailabilityZoneId: subnet ? zoneId(region, subnet.AvailabilityZone) : undefined,
      AvailabilityZoneName: subnet?.AvailabilityZone,
      VpcId: VPC,
    };
    state.mountTargets.push({ ...target, LifeCycleState: "available" });
    return { $metadata: META, ...target };
  });
  efs.on(DeleteMountTargetCommand).callsFake((input: { MountTargetId: string }) => {
    const target = state.mountTargets.find((m) => m.MountTargetId === input.MountTargetId);
    if (target) target.LifeCycleState = "deleted";
    return { $metadata: META };
  });

  /** A file system of `cluster` (tagged as clouddrove tags it) with mount targets in `inZones`. */
  function addFileSystem(cluster: string, inZones: string[]): string {
    const fileSystemId = `fs-0${(++counter).toString(16).padStart(16, "b")}`;
    state.fileSystems.push({
      OwnerId: ACCOUNT,
      CreationToken: `clouddrove-${cluster}`,
      FileSystemId: fileSystemId,
      CreationTime: new Date("2026-01-01T12:20:00Z"),
      LifeCycleState: "available",
      NumberOfMountTargets: inZones.length,
      SizeInBytes: { Value: 1_073_741_824 },
      PerformanceMode: "generalPurpose",
      Encrypted: true,
      ThroughputMode: "elastic",
      Tags: [
        { Key: "clouddrove.io/managed-by", Value: "clouddrove" },
        { Key: "clouddrove.io/cluster", Value: cluster },
      ],
    });
    for (const zone of inZones) {
      const subnet = allSubnets.find((s) => s.AvailabilityZone === zone && !s.MapPublicIpOnLaunch);
      state.mountTargets.push({
        OwnerId: ACCOUNT,
        MountTargetId: id("fsmt"),
        FileSystemId: fileSystemId,
        SubnetId: subnet?.SubnetId ?? "subnet-0",
        LifeCycleState: "available",
        AvailabilityZoneName: zone,
        VpcId: VPC,
      });
    }
    return fileSystemId;
  }

  const backup = fakeBackupAws(ACCOUNT, options.foreignBuckets);
  // What eksctl's iam.withOIDC leaves in IAM.
  backup.state.oidcProviders.push(`arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER.replace("https://", "")}`);

  return {
    state,
    backup: backup.state,
    ec2,
    efs,
    eks,
    sts,
    addFileSystem,
    restore() {
      for (const mock of [sts, ec2, eks, efs]) mock.restore();
      backup.restore();
    },
  };
}
