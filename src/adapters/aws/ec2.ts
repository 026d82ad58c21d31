/**
 * EC2: the region's zones, the cluster's subnets, and the security group that admits NFS from the nodes
 * to the EFS mount targets.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeAvailabilityZonesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  type Subnet,
} from "@aws-sdk/client-ec2";
import type { ZoneInfo } from "../../core/cluster/preflight.js";
import { aws, isAwsError } from "./errors.js";

export async function listZones(ec2: EC2Client, region: string): Promise<ZoneInfo[]> {
  const answer = await aws(`listing the zones of ${region}`, () =>
    ec2.send(new DescribeAvailabilityZonesCommand({})),
  );
  return (answer.AvailabilityZones ?? []).map((z) => ({
    name: z.ZoneName ?? "",
    state: z.State ?? "unknown",
    type: z.ZoneType,
  }));
}

/** Subnet id -> zone, for the control plane's subnets. */
export async function subnetZones(ec2: EC2Client, subnetIds: string[]): Promise<Map<string, string>> {
  if (subnetIds.length === 0) return new Map();
  const answer = await aws("reading the cluster's subnets", () =>
    ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds })),
  );
  return new Map((answer.Subnets ?? []).map((s) => [s.SubnetId ?? "", s.AvailabilityZone ?? ""]));
}

function isPrivate(subnet: Subnet): boolean {
  const tags = subnet.Tags ?? [];
  // eksctl tags private subnets for internal load balancers and public ones for internet-facing ones.
  if (tags.some((t) => t.Key === "kubernetes.io/role/internal-elb")) return true;
  if (tags.some((t) => t.Key === "kubernetes.io/role/elb")) return false;
  return subnet.MapPublicIpOnLaunch !== true;
}

/** One subnet per zone for the EFS mount targets: the private one the workers live in, when there is one. */
export async function mountTargetSubnets(
  ec2: EC2Client,
  vpcId: string,
  zones: string[],
): Promise<Map<string, string>> {
  const answer = await aws(`reading the subnets of ${vpcId}`, () =>
    ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] })),
  );
  const chosen = new Map<string, string>();
  for (const zone of zones) {
    const inZone = (answer.Subnets ?? []).filter((s) => s.AvailabilityZone === zone && s.SubnetId);
    const pick = inZone.find(isPrivate) ?? inZone[0];
    if (pick?.SubnetId) chosen.set(zone, pick.SubnetId);
  }
  return chosen;
}

export async function findSecurityGroup(
  ec2: EC2Client,
  vpcId: string,
  name: string,
): Promise<string | undefined> {
  const answer = await aws(`looking up security group ${name}`, () =>
    ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: "vpc-id", Values: [vpcId] },
          { Name: "group-name", Values: [name] },
        ],
      }),
    ),
  );
  return answer.SecurityGroups?.[0]?.GroupId;
}

/**
 * The EFS security group, created when missing, admitting TCP 2049 from `sourceGroupId` (the nodes).
 * Idempotent: an existing group and an existing rule are kept.
 */
export async function ensureNfsSecurityGroup(
  ec2: EC2Client,
  input: { vpcId: string; name: string; sourceGroupId: string; port: number; tags: Record<string, string> },
): Promise<{ groupId: string; created: boolean }> {
  let groupId = await findSecurityGroup(ec2, input.vpcId, input.name);
  const created = groupId === undefined;
  if (!groupId) {
    const answer = await aws(`creating security group ${input.name}`, () =>
      ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: input.name,
          Description: "NFS from the cluster's nodes to the registry's EFS mount targets (clouddrove)",
          VpcId: input.vpcId,
          TagSpecifications: [
            {
              ResourceType: "security-group",
              Tags: Object.entries({ Name: input.name, ...input.tags }).map(([Key, Value]) => ({
                Key,
                Value,
              })),
            },
          ],
        }),
      ),
    );
    groupId = answer.GroupId as string;
  }
  try {
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: input.port,
            ToPort: input.port,
            UserIdGroupPairs: [{ GroupId: input.sourceGroupId, Description: "cluster nodes (NFS)" }],
          },
        ],
      }),
    );
  } catch (error) {
    if (!isAwsError(error, "InvalidPermission.Duplicate")) {
      await aws(`allowing NFS into ${groupId}`, () => Promise.reject(error));
    }
  }
  return { groupId, created };
}

/** False while something (a mount target's network interface) still uses the group. */
export async function deleteSecurityGroup(ec2: EC2Client, groupId: string): Promise<boolean> {
  try {
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
    return true;
  } catch (error) {
    if (isAwsError(error, "DependencyViolation")) return false;
    if (isAwsError(error, "InvalidGroup.NotFound")) return true;
    return aws(`deleting security group ${groupId}`, () => Promise.reject(error));
  }
}
