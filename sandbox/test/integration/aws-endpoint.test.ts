/**
 * The sandbox's AWS endpoint, through the real AWS SDK v3 clients configured as clouddrove is (endpoint
 * and static credentials from awsEnvironment): answers derived from the cluster, state that survives a
 * restart (IAM roles too), the node group update carried out on the nodes, and requests without the sandbox's key refused.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeAvailabilityZonesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateFileSystemCommand,
  CreateMountTargetCommand,
  DeleteFileSystemCommand,
  DeleteMountTargetCommand,
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  EFSClient,
} from "@aws-sdk/client-efs";
import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeClusterVersionsCommand,
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  EKSClient,
  ListNodegroupsCommand,
  UpdateNodegroupVersionCommand,
} from "@aws-sdk/client-eks";
import {
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterEach, describe, expect, it } from "vitest";
import { awsEnvironment, type Sandbox, startSandbox } from "../../src/index.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sandboxWith(options: Parameters<typeof startSandbox>[0] = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ runtime: false, speed: 500, ...options });
  cleanups.push(() => sandbox.stop());
  return sandbox;
}

function clients(sandbox: Sandbox, credentials = sandbox.aws) {
  const env = awsEnvironment(sandbox.aws);
  const config = (endpoint: string | undefined) => ({
    region: env.AWS_REGION,
    endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
  });
  return {
    sts: new STSClient(config(env.AWS_ENDPOINT_URL_STS)),
    ec2: new EC2Client(config(env.AWS_ENDPOINT_URL_EC2)),
    eks: new EKSClient(config(env.AWS_ENDPOINT_URL_EKS)),
    efs: new EFSClient(config(env.AWS_ENDPOINT_URL_EFS)),
    iam: new IAMClient(config(env.AWS_ENDPOINT_URL_IAM)),
  };
}

describe("the sandbox's AWS endpoint", () => {
  it("serves on 127.0.0.1 with the variables that point the SDK at it", async () => {
    const sandbox = await sandboxWith();
    expect(sandbox.aws.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.aws.accessKeyId).toMatch(/^AKIA[0-9A-F]{16}$/);
    const env = awsEnvironment(sandbox.aws);
    for (const service of ["STS", "EC2", "EKS", "EFS"])
      expect(env[`AWS_ENDPOINT_URL_${service}`]).toBe(sandbox.aws.endpoint);
    expect(env).toMatchObject({
      AWS_ACCESS_KEY_ID: sandbox.aws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: sandbox.aws.secretAccessKey,
      AWS_REGION: "eu-west-1",
    });
    expect("AWS_PROFILE" in env && env.AWS_PROFILE === undefined).toBe(true);
    const identity = await clients(sandbox).sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe("000000000000");
    expect(identity.Arn).toBe("arn:aws:iam::000000000000:user/clouddrove-sandbox");
  });

  it("describes the cluster from the sandbox's own zones, version and API server", async () => {
    const sandbox = await sandboxWith({ zones: ["eu-west-1a", "eu-west-1b"], nodes: 2 });
    const { ec2, eks } = clients(sandbox);
    const zones = await ec2.send(new DescribeAvailabilityZonesCommand({}));
    expect(zones.AvailabilityZones?.map((z) => [z.ZoneName, z.State])).toEqual([
      ["eu-west-1a", "available"],
      ["eu-west-1b", "available"],
      ["eu-west-1c", "available"],
    ]);
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: "clouddrove" }));
    expect(cluster?.status).toBe("ACTIVE");
    expect(cluster?.version).toBe("1.33");
    expect(cluster?.endpoint).toBe(sandbox.url);
    const subnets = await ec2.send(
      new DescribeSubnetsCommand({ SubnetIds: cluster?.resourcesVpcConfig?.subnetIds }),
    );
    expect([...new Set(subnets.Subnets?.map((s) => s.AvailabilityZone))].sort()).toEqual([
      "eu-west-1a",
      "eu-west-1b",
    ]);
    expect(subnets.Subnets?.every((s) => s.VpcId === cluster?.resourcesVpcConfig?.vpcId)).toBe(true);
    await expect(eks.send(new DescribeClusterCommand({ name: "prod" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
    const addon = await eks.send(
      new DescribeAddonCommand({ clusterName: "clouddrove", addonName: "vpc-cni" }),
    );
    expect(addon.addon?.configurationValues).toBe('{"enableNetworkPolicy":"true"}');
    const versions = await eks.send(new DescribeClusterVersionsCommand({}));
    expect(versions.clusterVersions?.map((v) => v.clusterVersion)).toContain("1.33");
    const groups = await eks.send(new ListNodegroupsCommand({ clusterName: "clouddrove" }));
    expect(groups.nodegroups).toEqual(["ng-eu-west-1a", "ng-eu-west-1b"]);
  });

  it("owns an encrypted file system with a mount target per zone; EFS and EC2 changes survive a restart", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "clouddrove-sandbox-aws-"));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const first = await startSandbox({ runtime: false, speed: 500, stateDir });
    const { ec2, efs, eks } = clients(first);
    const [owned] = (await efs.send(new DescribeFileSystemsCommand({}))).FileSystems ?? [];
    expect(owned?.Encrypted).toBe(true);
    expect(owned?.Tags).toContainEqual({ Key: "clouddrove.io/cluster", Value: "clouddrove" });
    const targets = await efs.send(new DescribeMountTargetsCommand({ FileSystemId: owned?.FileSystemId }));
    expect(targets.MountTargets?.map((m) => [m.AvailabilityZoneName, m.LifeCycleState])).toEqual([
      ["eu-west-1a", "available"],
      ["eu-west-1b", "available"],
      ["eu-west-1c", "available"],
    ]);

    const vpcId = (await eks.send(new DescribeClusterCommand({ name: "clouddrove" }))).cluster
      ?.resourcesVpcConfig?.vpcId;
    const group = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "extra", Description: "test", VpcId: vpcId }),
    );
    const rule = {
      GroupId: group.GroupId,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 2049, ToPort: 2049, UserIdGroupPairs: [{ GroupId: "sg-0123" }] },
      ],
    };
    await ec2.send(new AuthorizeSecurityGroupIngressCommand(rule));
    await expect(ec2.send(new AuthorizeSecurityGroupIngressCommand(rule))).rejects.toMatchObject({
      name: "InvalidPermission.Duplicate",
    });
    const made = await efs.send(new CreateFileSystemCommand({ CreationToken: "second", Encrypted: true }));
    expect(made.LifeCycleState).toBe("creating");
    const subnetId = (
      await ec2.send(
        new DescribeSubnetsCommand({ Filters: [{ Name: "availability-zone", Values: ["eu-west-1b"] }] }),
      )
    ).Subnets?.find((s) => s.MapPublicIpOnLaunch === false)?.SubnetId;
    const target = await efs.send(
      new CreateMountTargetCommand({
        FileSystemId: made.FileSystemId,
        SubnetId: subnetId,
        SecurityGroups: [group.GroupId as string],
      }),
    );
    expect(target.AvailabilityZoneName).toBe("eu-west-1b");
    await expect(ec2.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId }))).rejects.toMatchObject({
      name: "DependencyViolation",
    });
    await first.stop();

    const second = await sandboxWith({ stateDir });
    expect(second.aws.accessKeyId).toBe(first.aws.accessKeyId);
    const again = clients(second);
    const all = await again.efs.send(new DescribeFileSystemsCommand({}));
    expect(all.FileSystems?.map((f) => [f.FileSystemId, f.LifeCycleState])).toEqual([
      [owned?.FileSystemId, "available"],
      [made.FileSystemId, "available"],
    ]);
    const groups = await again.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: ["extra"] }] }),
    );
    expect(groups.SecurityGroups?.map((g) => g.GroupId)).toEqual([group.GroupId]);
    await again.efs.send(new DeleteMountTargetCommand({ MountTargetId: target.MountTargetId }));
    await again.efs.send(new DeleteFileSystemCommand({ FileSystemId: made.FileSystemId }));
    await again.ec2.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId }));
    await expect(
      again.efs.send(new DescribeFileSystemsCommand({ FileSystemId: made.FileSystemId })),
    ).rejects.toMatchObject({ name: "FileSystemNotFound" });
  });

  it("carries out a node group version update on the nodes, reported by DescribeUpdate", async () => {
    const sandbox = await sandboxWith({ kubernetesVersion: "1.33", speed: 2000 });
    // A node group a minor behind the control plane: its node is replaced by one at 1.33.
    const node = sandbox.store
      .list("Node")
      .find((n) => n.metadata.labels?.["eks.amazonaws.com/nodegroup"] === "ng-eu-west-1a");
    const patched = structuredClone(node as NonNullable<typeof node>);
    patched.status.nodeInfo.kubeletVersion = "v1.32.3-eks-473151a";
    sandbox.store.updateStatus(patched);
    const { eks } = clients(sandbox);
    const before = await eks.send(
      new DescribeNodegroupCommand({ clusterName: "clouddrove", nodegroupName: "ng-eu-west-1a" }),
    );
    expect(before.nodegroup?.version).toBe("1.32");
    await expect(
      eks.send(
        new UpdateNodegroupVersionCommand({
          clusterName: "clouddrove",
          nodegroupName: "ng-eu-west-1a",
          version: "1.34",
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterException" });
    const { update } = await eks.send(
      new UpdateNodegroupVersionCommand({
        clusterName: "clouddrove",
        nodegroupName: "ng-eu-west-1a",
        version: "1.33",
      }),
    );
    expect(update?.status).toBe("InProgress");
    expect(update?.type).toBe("VersionUpdate");
    let status = update?.status;
    while (status === "InProgress") {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (
        await eks.send(
          new DescribeUpdateCommand({
            name: "clouddrove",
            updateId: update?.id,
            nodegroupName: "ng-eu-west-1a",
          }),
        )
      ).update?.status;
    }
    expect(status).toBe("Successful");
    const nodes = sandbox.store.list("Node", { labelSelector: "eks.amazonaws.com/nodegroup=ng-eu-west-1a" });
    expect(nodes.map((n) => n.metadata.name)).not.toContain(node?.metadata.name);
    expect(nodes.map((n) => n.status.nodeInfo.kubeletVersion)).toEqual([expect.stringMatching(/^v1\.33\./)]);
    const after = await eks.send(
      new DescribeNodegroupCommand({ clusterName: "clouddrove", nodegroupName: "ng-eu-west-1a" }),
    );
    expect(after.nodegroup?.version).toBe("1.33");
  });

  it("a node group update the sandbox was stopped in the middle of is Failed after a restart, saying why", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "clouddrove-sandbox-aws-"));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    // Time moves only when the test says so: the update cannot finish before the stop.
    const first = await startSandbox({ runtime: false, manualClock: true, stateDir });
    const node = first.store
      .list("Node")
      .find((n) => n.metadata.labels?.["eks.amazonaws.com/nodegroup"] === "ng-eu-west-1b");
    const aged = structuredClone(node as NonNullable<typeof node>);
    aged.status.nodeInfo.kubeletVersion = "v1.32.3-eks-473151a";
    first.store.updateStatus(aged);
    const { update } = await clients(first).eks.send(
      new UpdateNodegroupVersionCommand({
        clusterName: "clouddrove",
        nodegroupName: "ng-eu-west-1b",
        version: "1.33",
      }),
    );
    expect(update?.status).toBe("InProgress");
    await first.stop();

    const second = await sandboxWith({ stateDir, manualClock: true });
    const again = await clients(second).eks.send(
      new DescribeUpdateCommand({ name: "clouddrove", updateId: update?.id, nodegroupName: "ng-eu-west-1b" }),
    );
    expect(again.update?.status).toBe("Failed");
    expect(again.update?.errors?.[0]?.errorMessage).toBe(
      "The sandbox stopped while the update was in progress.",
    );
  });

  it("refuses requests that do not carry the sandbox's access key or are scoped to another region", async () => {
    const sandbox = await sandboxWith();
    const stranger = clients(sandbox, {
      ...sandbox.aws,
      accessKeyId: "AKIAEXAMPLEEXAMPLE00",
      secretAccessKey: "x",
    });
    await expect(stranger.sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "InvalidClientTokenId",
    });
    await expect(stranger.ec2.send(new DescribeAvailabilityZonesCommand({}))).rejects.toMatchObject({
      name: "AuthFailure",
    });
    await expect(stranger.eks.send(new DescribeClusterCommand({ name: "clouddrove" }))).rejects.toMatchObject(
      {
        name: "UnrecognizedClientException",
      },
    );
    await expect(stranger.efs.send(new DescribeFileSystemsCommand({}))).rejects.toMatchObject({
      name: "UnrecognizedClientException",
    });
    const elsewhere = new EKSClient({
      region: "us-east-1",
      endpoint: sandbox.aws.endpoint,
      maxAttempts: 1,
      credentials: { accessKeyId: sandbox.aws.accessKeyId, secretAccessKey: sandbox.aws.secretAccessKey },
    });
    await expect(elsewhere.send(new DescribeClusterCommand({ name: "clouddrove" }))).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
    });
    const unsigned = await fetch(`${sandbox.aws.endpoint}/clusters/clouddrove`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
  });

  it("IAM: the cluster's OIDC provider (its issuer from DescribeCluster), a role and its inline policy, kept across a restart", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "clouddrove-sandbox-iam-"));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const first = await startSandbox({ runtime: false, speed: 500, stateDir });
    const { eks, iam } = clients(first);
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: "clouddrove" }));
    const issuer = cluster?.identity?.oidc?.issuer as string;
    expect(issuer).toMatch(/^https:\/\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
    const provider = `arn:aws:iam::000000000000:oidc-provider/${issuer.replace("https://", "")}`;
    const found = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: provider }));
    expect(found.ClientIDList).toEqual(["sts.amazonaws.com"]);
    await expect(
      iam.send(
        new GetOpenIDConnectProviderCommand({
          OpenIDConnectProviderArn:
            "arn:aws:iam::000000000000:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/OTHER",
        }),
      ),
    ).rejects.toMatchObject({ name: expect.stringMatching(/^NoSuchEntity/) });

    const trust = (sub: string) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: "sts:AssumeRoleWithWebIdentity", Condition: { StringEquals: { sub } } },
        ],
      });
    const made = await iam.send(
      new CreateRoleCommand({
        RoleName: "backup",
        AssumeRolePolicyDocument: trust("a"),
        Tags: [{ Key: "k", Value: "v" }],
      }),
    );
    expect(made.Role?.Arn).toBe("arn:aws:iam::000000000000:role/backup");
    await expect(
      iam.send(new CreateRoleCommand({ RoleName: "backup", AssumeRolePolicyDocument: trust("a") })),
    ).rejects.toMatchObject({ name: expect.stringMatching(/^EntityAlreadyExists/) });
    await expect(
      iam.send(new CreateRoleCommand({ RoleName: "broken", AssumeRolePolicyDocument: "not json" })),
    ).rejects.toMatchObject({ name: expect.stringMatching(/^MalformedPolicyDocument/) });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: "backup", PolicyDocument: trust("b") }));
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
    });
    await iam.send(
      new PutRolePolicyCommand({ RoleName: "backup", PolicyName: "bucket", PolicyDocument: policy }),
    );
    await first.stop();

    const again = clients(await sandboxWith({ stateDir }));
    const role = await again.iam.send(new GetRoleCommand({ RoleName: "backup" }));
    expect(decodeURIComponent(role.Role?.AssumeRolePolicyDocument as string)).toBe(trust("b"));
    const inline = await again.iam.send(
      new GetRolePolicyCommand({ RoleName: "backup", PolicyName: "bucket" }),
    );
    expect(decodeURIComponent(inline.PolicyDocument as string)).toBe(policy);
    await expect(again.iam.send(new GetRoleCommand({ RoleName: "nobody" }))).rejects.toMatchObject({
      name: expect.stringMatching(/^NoSuchEntity/),
    });
  });
});
