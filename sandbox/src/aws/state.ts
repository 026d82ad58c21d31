/**
 * What the sandbox's AWS account holds. Derived from the cluster, never stored: the region's zones, the
 * cluster's VPC, subnets (a private and a public one per zone of the cluster) and security group, its
 * node groups (the nodes' labels) and Kubernetes version. Stored with the sandbox's saved state: the
 * access key, the EFS file systems and mount targets, the security groups made through EC2, and the node
 * group updates. A new sandbox starts with what `clouddrove cluster create` makes on AWS: an encrypted
 * file system tagged for the cluster with a mount target in each zone, and its NFS security group.
 */
import { createHash, randomBytes } from "node:crypto";

export const SANDBOX_ACCOUNT = "000000000000";

export interface AwsTag {
  Key: string;
  Value: string;
}

export interface FileSystemRecord {
  FileSystemId: string;
  CreationToken: string;
  CreationTime: number;
  LifeCycleState: string;
  Encrypted: boolean;
  PerformanceMode: string;
  ThroughputMode: string;
  Tags: AwsTag[];
}

/** An EFS access point: a directory of the file system (made on first mount) and the POSIX user of mounts. */
export interface AccessPointRecord {
  AccessPointId: string;
  FileSystemId: string;
  ClientToken: string;
  RootDirectory: string;
  PosixUser?: { Uid: number; Gid: number };
  CreationInfo?: { OwnerUid: number; OwnerGid: number; Permissions: string };
  Tags: AwsTag[];
}

export interface MountTargetRecord {
  MountTargetId: string;
  FileSystemId: string;
  SubnetId: string;
  AvailabilityZoneName: string;
  IpAddress: string;
  NetworkInterfaceId: string;
  SecurityGroups: string[];
  LifeCycleState: string;
}

export interface SecurityGroupRecord {
  GroupId: string;
  GroupName: string;
  Description: string;
  VpcId: string;
  Tags: AwsTag[];
  /** Ingress rules as `protocol:from-to:source group`. */
  ingress: string[];
}

/** An EKS update: of a node group's version, the control plane's version (neither name) or an add-on's. */
export interface NodegroupUpdateRecord {
  id: string;
  clusterName: string;
  nodegroupName?: string;
  addonName?: string;
  /** Kubernetes minor (version updates) or add-on version (add-on updates). */
  version: string;
  status: "InProgress" | "Successful" | "Failed" | "Cancelled";
  createdAt: number;
  errors: Array<{ errorCode: string; errorMessage: string; resourceIds: string[] }>;
}

/** An IAM role (iam.ts), with its inline policies. */
export interface RoleRecord {
  RoleName: string;
  RoleId: string;
  Arn: string;
  Description?: string;
  CreateDate: number;
  AssumeRolePolicyDocument: string;
  Tags: Array<{ Key: string; Value: string }>;
  /** Inline policies by name: the JSON documents as sent. */
  policies: Record<string, string>;
}

/** The part of the AWS account saved with the sandbox's state (persist.ts). */
export interface AwsAccountState {
  accessKeyId: string;
  secretAccessKey: string;
  counter: number;
  fileSystems: FileSystemRecord[];
  mountTargets: MountTargetRecord[];
  /** Absent in states saved before the sandbox knew access points. */
  accessPoints?: AccessPointRecord[];
  securityGroups: SecurityGroupRecord[];
  updates: NodegroupUpdateRecord[];
  /** Add-on versions changed by UpdateAddon (the rest are at their installed version). */
  addonVersions?: Record<string, string>;
  /** IAM roles made through the endpoint (absent in a state saved before IAM was served). */
  roles?: RoleRecord[];
  /** ACM certificates the sandbox issued (RequestCertificate); its load balancers serve them. */
  acmCertificates?: AcmCertificateRecord[];
}

/** A certificate of the ACM stand-in: issued at once, self-signed (clients trust it as its own CA). */
export interface AcmCertificateRecord {
  arn: string;
  domainName: string;
  subjectAlternativeNames: string[];
  /** PEM */
  certificate: string;
  /** PEM (PKCS#8); only the sandbox's load balancer uses it. */
  key: string;
  createdAt: number;
}

/** 17 hex digits derived from `seed`, as AWS resource ids have (vpc-0..., subnet-0...). */
export function hexId(prefix: string, seed: string): string {
  return `${prefix}-0${createHash("sha256").update(seed).digest("hex").slice(0, 16)}`;
}

export function newAccountState(): AwsAccountState {
  return {
    // AKIA + 16 upper-case letters and digits, as IAM access keys look; the secret is 40 characters.
    accessKeyId: `AKIA${randomBytes(10).toString("hex").toUpperCase().slice(0, 16)}`,
    secretAccessKey: randomBytes(30).toString("base64").replace(/[+/=]/g, "x").slice(0, 40),
    counter: 0,
    fileSystems: [],
    mountTargets: [],
    securityGroups: [],
    updates: [],
  };
}

/** The cluster as AWS sees it: derived from what the sandbox was seeded with. */
export interface ClusterShape {
  name: string;
  region: string;
  /** The zones the cluster was made across (its nodes' zones when seeded). */
  zones: string[];
  kubernetesVersion: string;
}

export interface SubnetShape {
  SubnetId: string;
  AvailabilityZone: string;
  CidrBlock: string;
  MapPublicIpOnLaunch: boolean;
  private: boolean;
}

export function vpcId(cluster: ClusterShape): string {
  return hexId("vpc", `${cluster.region}/${cluster.name}/vpc`);
}

export function clusterSecurityGroupId(cluster: ClusterShape): string {
  return hexId("sg", `${cluster.region}/${cluster.name}/cluster-sg`);
}

/** A public and a private subnet in each of the cluster's zones, as eksctl makes them. */
export function subnetsOf(cluster: ClusterShape): SubnetShape[] {
  return cluster.zones.flatMap((zone, i) => [
    {
      SubnetId: hexId("subnet", `${cluster.name}/${zone}/public`),
      AvailabilityZone: zone,
      CidrBlock: `192.168.${i * 32}.0/19`,
      MapPublicIpOnLaunch: true,
      private: false,
    },
    {
      SubnetId: hexId("subnet", `${cluster.name}/${zone}/private`),
      AvailabilityZone: zone,
      CidrBlock: `192.168.${96 + i * 32}.0/19`,
      MapPublicIpOnLaunch: false,
      private: true,
    },
  ]);
}

/** The region's zones: its a, b and c, and any other zone the cluster was made in. */
export function regionZones(cluster: ClusterShape): string[] {
  return [...new Set([...["a", "b", "c"].map((z) => `${cluster.region}${z}`), ...cluster.zones])].sort();
}

export function nextId(state: AwsAccountState, prefix: string): string {
  state.counter += 1;
  return hexId(prefix, `${prefix}/${state.counter}/${state.accessKeyId}`);
}

export function mountTargetIp(subnet: SubnetShape, n: number): string {
  const base = subnet.CidrBlock.split(".").slice(0, 3);
  return `${base[0]}.${base[1]}.${Number(base[2]) + 1}.${10 + (n % 200)}`;
}

/** What `clouddrove cluster create` leaves on AWS: the file system, its NFS group, a mount target per zone. */
export function seedAccount(state: AwsAccountState, cluster: ClusterShape, now: number): void {
  const tags = [
    { Key: "clouddrove.io/managed-by", Value: "clouddrove" },
    { Key: "clouddrove.io/cluster", Value: cluster.name },
  ];
  const group: SecurityGroupRecord = {
    GroupId: nextId(state, "sg"),
    GroupName: `clouddrove-${cluster.name}-efs`,
    Description: "NFS from the cluster's nodes to the registry's EFS mount targets (clouddrove)",
    VpcId: vpcId(cluster),
    Tags: [{ Key: "Name", Value: `clouddrove-${cluster.name}-efs` }, ...tags],
    ingress: [`tcp:2049-2049:${clusterSecurityGroupId(cluster)}`],
  };
  state.securityGroups.push(group);
  const fileSystemId = nextId(state, "fs");
  state.fileSystems.push({
    FileSystemId: fileSystemId,
    CreationToken: `clouddrove-${cluster.name}`,
    CreationTime: now,
    LifeCycleState: "available",
    Encrypted: true,
    PerformanceMode: "generalPurpose",
    ThroughputMode: "elastic",
    Tags: [{ Key: "Name", Value: `clouddrove-${cluster.name}` }, ...tags],
  });
  const privateSubnets = subnetsOf(cluster).filter((s) => s.private);
  privateSubnets.forEach((subnet, i) => {
    state.mountTargets.push({
      MountTargetId: nextId(state, "fsmt"),
      FileSystemId: fileSystemId,
      SubnetId: subnet.SubnetId,
      AvailabilityZoneName: subnet.AvailabilityZone,
      IpAddress: mountTargetIp(subnet, i),
      NetworkInterfaceId: nextId(state, "eni"),
      SecurityGroups: [group.GroupId],
      LifeCycleState: "available",
    });
  });
}

/** A copy safe to save (and to load: updates a stop interrupted are failed, as nothing finishes them). */
export function restoredAccount(saved: AwsAccountState): AwsAccountState {
  const state = structuredClone(saved);
  for (const update of state.updates) {
    if (update.status === "InProgress") {
      update.status = "Failed";
      update.errors.push({
        errorCode: "Unknown",
        errorMessage: "The sandbox stopped while the update was in progress.",
        resourceIds: [update.nodegroupName ?? update.addonName ?? update.clusterName],
      });
    }
  }
  return state;
}
