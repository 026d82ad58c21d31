/**
 * clouddrove's AWS adapters (src/adapters/aws*) with the real AWS SDK v3 clients, built by awsClients from
 * an environment that points them at the sandbox's AWS endpoint: every STS, EC2, EKS and EFS call they
 * make (and the S3 and IAM calls of cluster create's backup steps, on the sandbox's S3 and IAM), with its answers parsed, its idempotence rules (an existing group or rule kept, a missing mount
 * target or file system taken as deleted) and its errors mapped (a wrong key is exit 4).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsEnvironment, type Sandbox, startSandbox } from "../../sandbox/src/index.js";
import {
  type AwsClients,
  addonConfiguration,
  awsClients,
  callerIdentity,
  deleteSecurityGroup,
  describeCluster,
  describeNodegroup,
  eksVersions,
  findFileSystem,
  listMountTargets,
  listZones,
  mountTargetSubnets,
  offeredForNewClusters,
  subnetZones,
  updateNodegroupVersion,
} from "../../src/adapters/aws.js";
import { CredentialsError, OperationError } from "../../src/errors.js";
import { accessPointScenario, securityGroupAndEfsScenario } from "../support/aws-adapter-scenarios.js";
import { backupSetupScenario } from "../support/backup-setup-scenario.js";
import { configWith } from "../support/render-fixtures.js";

let sandbox: Sandbox;
let clients: AwsClients;
const poll = { timeoutMs: 30_000, intervalMs: 20 };

beforeAll(async () => {
  sandbox = await startSandbox({
    runtime: false,
    speed: 2000,
    zones: ["eu-west-1a", "eu-west-1b"],
    nodes: 2,
  });
  clients = awsClients("eu-west-1", { PATH: process.env.PATH, ...awsEnvironment(sandbox.aws) });
});
afterAll(() => sandbox?.stop());

describe("the AWS adapters against the sandbox's AWS endpoint", () => {
  it("STS, EC2 and EKS: identity, zones, the cluster, its subnets, addons and versions", async () => {
    expect(await callerIdentity(clients)).toEqual({
      account: "000000000000",
      arn: "arn:aws:iam::000000000000:user/clouddrove-sandbox",
    });
    expect(await listZones(clients.ec2, "eu-west-1")).toEqual(
      ["eu-west-1a", "eu-west-1b", "eu-west-1c"].map((name) => ({
        name,
        state: "available",
        type: "availability-zone",
      })),
    );
    const cluster = await describeCluster(clients.eks, "clouddrove");
    expect(cluster).toMatchObject({
      name: "clouddrove",
      status: "ACTIVE",
      version: "1.33",
      endpoint: sandbox.url,
    });
    expect(cluster?.vpcId).toMatch(/^vpc-0[0-9a-f]{16}$/);
    expect(cluster?.clusterSecurityGroupId).toMatch(/^sg-0[0-9a-f]{16}$/);
    expect(await describeCluster(clients.eks, "prod")).toBeUndefined();
    const zones = await subnetZones(clients.ec2, cluster?.subnetIds ?? []);
    expect([...new Set(zones.values())].sort()).toEqual(["eu-west-1a", "eu-west-1b"]);
    // One subnet per zone for mount targets: the private one; none in a zone the cluster is not in.
    const chosen = await mountTargetSubnets(clients.ec2, cluster?.vpcId as string, [
      "eu-west-1a",
      "eu-west-1c",
    ]);
    expect([...chosen.keys()]).toEqual(["eu-west-1a"]);
    expect(zones.get(chosen.get("eu-west-1a") as string)).toBe("eu-west-1a");
    expect(await addonConfiguration(clients.eks, "clouddrove", "vpc-cni")).toBe(
      '{"enableNetworkPolicy":"true"}',
    );
    expect(await addonConfiguration(clients.eks, "clouddrove", "no-such-addon")).toBeNull();
    // The sandbox's EKS calendar: its default (1.33) is EKS's default, older minors age into extended
    // support, every phase and date arrives as the adapter reads it.
    const versions = await eksVersions(clients.eks);
    expect(versions?.map((v) => [v.version, v.support, v.isDefault])).toEqual([
      ["1.29", "extended", false],
      ["1.30", "extended", false],
      ["1.31", "standard", false],
      ["1.32", "standard", false],
      ["1.33", "standard", true],
      ["1.34", "standard", false],
    ]);
    expect(offeredForNewClusters(versions)).toEqual(["1.29", "1.30", "1.31", "1.32", "1.33", "1.34"]);
    const ending = versions?.find((v) => v.version === "1.31");
    expect(Date.parse(ending?.endOfStandardSupport as string)).toBeGreaterThan(Date.now());
    expect(Date.parse(ending?.endOfExtendedSupport as string)).toBeGreaterThan(
      Date.parse(ending?.endOfStandardSupport as string),
    );
  });

  it("EC2 security groups: found, created once, the rule kept, deletion refused while a mount target uses it", async () => {
    const cluster = await describeCluster(clients.eks, "clouddrove");
    const vpcId = cluster?.vpcId as string;
    const subnets = await mountTargetSubnets(clients.ec2, vpcId, ["eu-west-1b"]);
    await securityGroupAndEfsScenario(clients, {
      vpcId,
      sourceGroupId: cluster?.clusterSecurityGroupId as string,
      subnetId: subnets.get("eu-west-1b") as string,
      zone: "eu-west-1b",
      createdState: "creating", // as EFS: available only once provisioned
      whileMounted: async (groupId) => {
        expect(await deleteSecurityGroup(clients.ec2, groupId)).toBe(false);
      },
    });
  });

  it("EFS access points: one per namespace, found by tag, made once per client token", async () => {
    await accessPointScenario(clients, { clientTokenIdempotent: true });
  });

  it("EFS: the sandbox's own file system for the cluster, found by tag, with a mount target in each zone", async () => {
    const fs = await findFileSystem(clients.efs, {
      tagKey: "clouddrove.io/cluster",
      tagValue: "clouddrove",
      creationToken: "clouddrove-clouddrove",
    });
    expect(fs?.state).toBe("available");
    const targets = await listMountTargets(clients.efs, fs?.id as string);
    expect(targets.map((t) => [t.zone, t.state])).toEqual([
      ["eu-west-1a", "available"],
      ["eu-west-1b", "available"],
    ]);
  });

  it("EKS node groups: a refused version, then an update carried out and waited for", async () => {
    expect(await describeNodegroup(clients.eks, "clouddrove", "ng-eu-west-1a")).toEqual({
      name: "ng-eu-west-1a",
      version: "1.33",
      status: "ACTIVE",
    });
    const refused = updateNodegroupVersion(
      clients.eks,
      { clusterName: "clouddrove", nodegroupName: "ng-eu-west-1a", version: "1.35" },
      poll,
    );
    await expect(refused).rejects.toBeInstanceOf(OperationError);
    await expect(refused).rejects.toThrow(
      /InvalidParameterException: Requested Nodegroup Kubernetes version 1\.35/,
    );
    // An older kubelet on the group's node, so that the update has a node to replace.
    const [node] = sandbox.store.list("Node", { labelSelector: "eks.amazonaws.com/nodegroup=ng-eu-west-1a" });
    const aged = structuredClone(node as NonNullable<typeof node>);
    aged.status.nodeInfo.kubeletVersion = "v1.32.3-eks-473151a";
    sandbox.store.updateStatus(aged);
    const seen: string[] = [];
    const id = await updateNodegroupVersion(
      clients.eks,
      { clusterName: "clouddrove", nodegroupName: "ng-eu-west-1a", version: "1.33" },
      poll,
      (status) => seen.push(status),
    );
    expect(seen.at(0)).toBe(`EKS update ${id}: InProgress`);
    expect(seen.at(-1)).toBe(`EKS update ${id}: Successful`);
    const nodes = sandbox.store.list("Node", { labelSelector: "eks.amazonaws.com/nodegroup=ng-eu-west-1a" });
    expect(nodes.map((n) => n.metadata.name)).not.toContain(node?.metadata.name);
    expect((await describeNodegroup(clients.eks, "clouddrove", "ng-eu-west-1a")).version).toBe("1.33");
  });

  it("a key that is not the sandbox's is refused, and mapped to exit 4 naming the fix", async () => {
    const stranger = awsClients("eu-west-1", {
      ...awsEnvironment(sandbox.aws),
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE00",
    });
    const failure = callerIdentity(stranger);
    await expect(failure).rejects.toBeInstanceOf(CredentialsError);
    await expect(failure).rejects.toThrow(
      /AWS rejected the credentials while checking the AWS credentials: InvalidClientTokenId/,
    );
    await expect(describeCluster(stranger.eks, "clouddrove")).rejects.toThrow(/UnrecognizedClientException/);
  });

  it("S3 and IAM: cluster create's backup bucket and IRSA role, made and kept, as against moto", async () => {
    expect(sandbox.aws.s3Endpoint).toBeDefined();
    await backupSetupScenario({
      clients,
      env: { PATH: process.env.PATH, ...awsEnvironment(sandbox.aws) },
      account: "000000000000",
      cluster: "clouddrove",
      region: "eu-west-1",
      config: configWith("namespace=registry", "backup.prefix=team/"),
    });
  });
});
