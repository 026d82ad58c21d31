/**
 * EC2 (ec2Query protocol): the region's zones, the cluster's subnets, and the security groups clouddrove
 * finds, creates, opens for NFS and deletes.
 */
import type { ServerResponse } from "node:http";
import type { AwsContext } from "./context.js";
import {
  AwsServiceError,
  type Form,
  formFilters,
  formIndexes,
  formList,
  sendEc2Result,
  type XmlValue,
} from "./protocol.js";
import {
  type AwsTag,
  clusterSecurityGroupId,
  nextId,
  regionZones,
  SANDBOX_ACCOUNT,
  type SecurityGroupRecord,
  subnetsOf,
  vpcId,
} from "./state.js";

const tagSet = (tags: AwsTag[]) => tags.map((t) => ({ key: t.Key, value: t.Value }));

function zoneId(region: string, zones: string[], zone: string): string {
  const short = region.replace(/^(\w)\w*-(\w)\w*-(\d+)$/, "$1$2$3");
  return `${short}-az${zones.indexOf(zone) + 1}`;
}

/** The account's groups plus the one EKS made for the cluster (which clouddrove only refers to). */
function securityGroups(ctx: AwsContext): SecurityGroupRecord[] {
  const cluster = ctx.cluster();
  return [
    {
      GroupId: clusterSecurityGroupId(cluster),
      GroupName: `eks-cluster-sg-${cluster.name}`,
      Description:
        "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any managed workloads.",
      VpcId: vpcId(cluster),
      Tags: [{ Key: "aws:eks:cluster-name", Value: cluster.name }],
      ingress: [],
    },
    ...ctx.state.securityGroups,
  ];
}

function matches(filters: Map<string, string[]>, name: string, value: string): boolean {
  const wanted = filters.get(name);
  return wanted === undefined || wanted.includes(value);
}

function groupOrThrow(ctx: AwsContext, groupId: string): SecurityGroupRecord {
  const group = ctx.state.securityGroups.find((g) => g.GroupId === groupId);
  if (group) return group;
  if (groupId === clusterSecurityGroupId(ctx.cluster())) {
    throw new AwsServiceError(
      "UnauthorizedOperation",
      `The sandbox does not change the cluster's security group ${groupId}.`,
    );
  }
  throw new AwsServiceError("InvalidGroup.NotFound", `The security group '${groupId}' does not exist`);
}

export function handleEc2(ctx: AwsContext, form: Form, response: ServerResponse): void {
  const action = form.get("Action") ?? "";
  sendEc2Result(response, action, answer(ctx, form, action));
}

function answer(ctx: AwsContext, form: Form, action: string): XmlValue {
  const cluster = ctx.cluster();
  const filters = formFilters(form);
  switch (action) {
    case "DescribeAvailabilityZones": {
      const zones = regionZones(cluster);
      const names = formList(form, "ZoneName");
      return {
        availabilityZoneInfo: zones
          .filter((z) => (names.length === 0 || names.includes(z)) && matches(filters, "zone-name", z))
          .map((zone) => ({
            zoneName: zone,
            zoneState: "available",
            optInStatus: "opt-in-not-required",
            messageSet: [],
            regionName: cluster.region,
            zoneId: zoneId(cluster.region, zones, zone),
            groupName: cluster.region,
            networkBorderGroup: cluster.region,
            zoneType: "availability-zone",
          })),
      };
    }
    case "DescribeSubnets": {
      const ids = formList(form, "SubnetId");
      const all = subnetsOf(cluster);
      const unknown = ids.filter((id) => !all.some((s) => s.SubnetId === id));
      if (unknown.length > 0) {
        throw new AwsServiceError(
          "InvalidSubnetID.NotFound",
          `The subnet ID '${unknown.join(", ")}' does not exist`,
        );
      }
      const vpc = vpcId(cluster);
      const zones = regionZones(cluster);
      return {
        subnetSet: all
          .filter(
            (s) =>
              (ids.length === 0 || ids.includes(s.SubnetId)) &&
              matches(filters, "vpc-id", vpc) &&
              matches(filters, "availability-zone", s.AvailabilityZone),
          )
          .map((s) => ({
            subnetId: s.SubnetId,
            availabilityZone: s.AvailabilityZone,
            availabilityZoneId: zoneId(cluster.region, zones, s.AvailabilityZone),
            vpcId: vpc,
            cidrBlock: s.CidrBlock,
            mapPublicIpOnLaunch: s.MapPublicIpOnLaunch,
            state: "available",
            ownerId: SANDBOX_ACCOUNT,
            tagSet: tagSet([
              { Key: s.private ? "kubernetes.io/role/internal-elb" : "kubernetes.io/role/elb", Value: "1" },
              { Key: "alpha.eksctl.io/cluster-name", Value: cluster.name },
            ]),
          })),
      };
    }
    case "DescribeSecurityGroups": {
      const ids = formList(form, "GroupId");
      return {
        securityGroupInfo: securityGroups(ctx)
          .filter(
            (g) =>
              (ids.length === 0 || ids.includes(g.GroupId)) &&
              matches(filters, "vpc-id", g.VpcId) &&
              matches(filters, "group-name", g.GroupName) &&
              matches(filters, "group-id", g.GroupId),
          )
          .map((g) => ({
            groupId: g.GroupId,
            groupName: g.GroupName,
            groupDescription: g.Description,
            vpcId: g.VpcId,
            ownerId: SANDBOX_ACCOUNT,
            tagSet: tagSet(g.Tags),
          })),
      };
    }
    case "CreateSecurityGroup": {
      const name = form.get("GroupName") ?? "";
      const vpc = form.get("VpcId") ?? "";
      if (vpc !== vpcId(cluster))
        throw new AwsServiceError("InvalidVpcID.NotFound", `The vpc ID '${vpc}' does not exist`);
      if (securityGroups(ctx).some((g) => g.GroupName === name && g.VpcId === vpc)) {
        throw new AwsServiceError(
          "InvalidGroup.Duplicate",
          `The security group '${name}' already exists for VPC '${vpc}'`,
        );
      }
      const tags: AwsTag[] = [];
      for (const n of formIndexes(form, "TagSpecification")) {
        for (const m of formIndexes(form, `TagSpecification.${n}.Tag`)) {
          tags.push({
            Key: form.get(`TagSpecification.${n}.Tag.${m}.Key`) ?? "",
            Value: form.get(`TagSpecification.${n}.Tag.${m}.Value`) ?? "",
          });
        }
      }
      const group: SecurityGroupRecord = {
        GroupId: nextId(ctx.state, "sg"),
        GroupName: name,
        Description: form.get("GroupDescription") ?? "",
        VpcId: vpc,
        Tags: tags,
        ingress: [],
      };
      ctx.state.securityGroups.push(group);
      return { groupId: group.GroupId, tagSet: tagSet(tags) };
    }
    case "AuthorizeSecurityGroupIngress": {
      const group = groupOrThrow(ctx, form.get("GroupId") ?? "");
      const rules: string[] = [];
      for (const n of formIndexes(form, "IpPermissions")) {
        const p = `IpPermissions.${n}`;
        const range = `${form.get(`${p}.IpProtocol`)}:${form.get(`${p}.FromPort`)}-${form.get(`${p}.ToPort`)}`;
        const sources = formIndexes(form, `${p}.Groups`).map(
          (m) => form.get(`${p}.Groups.${m}.GroupId`) ?? "",
        );
        const cidrs = formIndexes(form, `${p}.IpRanges`).map(
          (m) => form.get(`${p}.IpRanges.${m}.CidrIp`) ?? "",
        );
        for (const source of [...sources, ...cidrs]) rules.push(`${range}:${source}`);
      }
      const duplicate = rules.find((r) => group.ingress.includes(r));
      if (duplicate) {
        const [protocol, ports, source] = duplicate.split(":");
        throw new AwsServiceError(
          "InvalidPermission.Duplicate",
          `the specified rule "peer: ${source}, ${protocol?.toUpperCase()}, from port: ${ports?.split("-")[0]}, to port: ${ports?.split("-")[1]}, ALLOW" already exists`,
        );
      }
      group.ingress.push(...rules);
      return { return: true };
    }
    case "DeleteSecurityGroup": {
      const group = groupOrThrow(ctx, form.get("GroupId") ?? "");
      if (ctx.state.mountTargets.some((m) => m.SecurityGroups.includes(group.GroupId))) {
        throw new AwsServiceError("DependencyViolation", `resource ${group.GroupId} has a dependent object`);
      }
      ctx.state.securityGroups = ctx.state.securityGroups.filter((g) => g !== group);
      return { return: true, groupId: group.GroupId };
    }
    default:
      throw new AwsServiceError(
        "InvalidAction",
        `The sandbox's EC2 does not serve ${action || "this action"}.`,
      );
  }
}
