/**
 * clouddrove's AWS adapters (src/adapters/aws*) with the real AWS SDK v3 clients against moto's server
 * (scripts/components.sh moto), an emulator the project did not write: the same calls as
 * aws-adapters-sandbox.test.ts makes against the sandbox's AWS endpoint — STS identity, EC2 zones, subnets
 * and security groups, EKS cluster and node groups, EFS file systems and mount targets — on a VPC and
 * cluster the test creates in moto first. Where moto answers differently from the sandbox (and from AWS),
 * the difference is listed in docs/real-cluster.md; moto 5.2.6 has no DescribeClusterVersions, so the
 * supported versions are read only from the sandbox.
 */
import {
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
} from "@aws-sdk/client-ec2";
import { CreateClusterCommand, CreateNodegroupCommand } from "@aws-sdk/client-eks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AwsClients,
  awsClients,
  callerIdentity,
  describeCluster,
  describeNodegroup,
  listZones,
  mountTargetSubnets,
  subnetZones,
} from "../../src/adapters/aws.js";
import { accessPointScenario, securityGroupAndEfsScenario } from "../support/aws-adapter-scenarios.js";
import { MOTO_ACCOUNT, type MotoServer, startMoto } from "../support/moto.js";

const REGION = "eu-west-1";
let moto: MotoServer;
let clients: AwsClients;
let vpcId: string;
const subnets: Record<string, string> = {};

beforeAll(async () => {
  moto = await startMoto(REGION);
  clients = awsClients(REGION, { PATH: process.env.PATH, ...moto.env });
  const vpc = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
  vpcId = vpc.Vpc?.VpcId as string;
  // A public and a private subnet in eu-west-1a, a private one in eu-west-1b, as eksctl tags them.
  const layout = [
    ["public-a", "eu-west-1a", "10.0.0.0/20", "kubernetes.io/role/elb"],
    ["private-a", "eu-west-1a", "10.0.32.0/20", "kubernetes.io/role/internal-elb"],
    ["private-b", "eu-west-1b", "10.0.48.0/20", "kubernetes.io/role/internal-elb"],
  ] as const;
  for (const [name, zone, cidr, role] of layout) {
    const made = await clients.ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }),
    );
    subnets[name] = made.Subnet?.SubnetId as string;
    await clients.ec2.send(
      new CreateTagsCommand({ Resources: [subnets[name]], Tags: [{ Key: role, Value: "1" }] }),
    );
  }
  await clients.eks.send(
    new CreateClusterCommand({
      name: "clouddrove",
      version: "1.33",
      roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/eks-cluster`,
      resourcesVpcConfig: { subnetIds: [subnets["private-a"], subnets["private-b"]] as string[] },
    }),
  );
  await clients.eks.send(
    new CreateNodegroupCommand({
      clusterName: "clouddrove",
      nodegroupName: "ng-eu-west-1a",
      nodeRole: `arn:aws:iam::${MOTO_ACCOUNT}:role/eks-node`,
      subnets: [subnets["private-a"] as string],
      version: "1.33",
    }),
  );
});
afterAll(async () => {
  await moto?.stop();
});

describe("the AWS adapters against moto", () => {
  it("STS, EC2 and EKS: identity, zones, the cluster and its subnets", async () => {
    expect(await callerIdentity(clients)).toEqual({
      account: MOTO_ACCOUNT,
      arn: `arn:aws:sts::${MOTO_ACCOUNT}:user/moto`,
    });
    const zones = await listZones(clients.ec2, REGION);
    expect(zones.map((z) => z.name)).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    expect(zones.every((z) => z.state === "available")).toBe(true);
    const cluster = await describeCluster(clients.eks, "clouddrove");
    // moto echoes the request's resourcesVpcConfig: no vpcId or clusterSecurityGroupId (EKS and the
    // sandbox report both), so those are not asserted here.
    expect(cluster).toMatchObject({ name: "clouddrove", status: "ACTIVE", version: "1.33" });
    expect(cluster?.subnetIds).toEqual([subnets["private-a"], subnets["private-b"]]);
    expect(await describeCluster(clients.eks, "prod")).toBeUndefined();
    const inZones = await subnetZones(clients.ec2, cluster?.subnetIds ?? []);
    expect([...inZones.values()].sort()).toEqual(["eu-west-1a", "eu-west-1b"]);
    // One subnet per zone for mount targets: the private one; none in a zone without a subnet.
    const chosen = await mountTargetSubnets(clients.ec2, vpcId, ["eu-west-1a", "eu-west-1c"]);
    expect([...chosen]).toEqual([["eu-west-1a", subnets["private-a"]]]);
  });

  it("EC2 security groups and EFS: created once, the rule kept, mount targets, deletion", async () => {
    const groups = await clients.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
    );
    // (EC2 refuses to delete a group a mount target uses, DependencyViolation, as the sandbox does; moto
    // deletes it, so no whileMounted check here: see docs/real-cluster.md.)
    await securityGroupAndEfsScenario(clients, {
      vpcId,
      sourceGroupId: groups.SecurityGroups?.[0]?.GroupId as string,
      subnetId: subnets["private-b"] as string,
      zone: "eu-west-1b",
    });
  });

  it("EFS access points: one per namespace, found by tag, made once per client token", async () => {
    await accessPointScenario(clients, { clientTokenIdempotent: false });
  });

  it("EKS node groups: the group's version and status", async () => {
    expect(await describeNodegroup(clients.eks, "clouddrove", "ng-eu-west-1a")).toEqual({
      name: "ng-eu-west-1a",
      version: "1.33",
      status: "ACTIVE",
    });
  });
});
