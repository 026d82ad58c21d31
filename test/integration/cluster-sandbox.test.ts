/**
 * `cluster create | verify | delete` against the sandbox: first with --sandbox (no eksctl; the AWS side is
 * the sandbox's AWS endpoint, reached through the same adapters as AWS), then the real EKS path with the
 * sandbox standing in for the cluster eksctl made (the fake eksctl writes the sandbox's kubeconfig) and
 * the fake AWS account behind the SDK clients (a cluster that exists only once eksctl ran); last, verify
 * on the EKS path with the real SDK clients reaching the sandbox's AWS endpoint.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  DeleteMountTargetCommand,
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  EFSClient,
} from "@aws-sdk/client-efs";
import { GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { GetPublicAccessBlockCommand, S3Client } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  awsEnvironment,
  down,
  installEksAddons,
  type Sandbox,
  startSandbox,
} from "../../sandbox/src/index.js";
import { awsClientConfig } from "../../src/adapters/aws.js";
import { connectKube } from "../../src/adapters/kube.js";
import { type FakeAws, fakeAws } from "../support/fake-eksctl/aws.js";
import { fakeEksctl, removeTempDirs, tempDir } from "../support/fake-eksctl/index.js";

/** runCli in a temp dir that is removed after each test (unless the test names its own cwd). */
const runCli = (argv: string[], options: Parameters<typeof runCliIn>[1] = {}) =>
  runCliIn(argv, { cwd: tempDir(), ...options });

import { cleanEnv, runCli as runCliIn } from "../support/run-cli.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  removeTempDirs();
});

/** A sandbox state directory of the test's own; the sandbox its commands start is stopped after it. */
function sandboxEnv(dir = tempDir()) {
  const stateDir = join(dir, "sandbox");
  cleanups.push(() => down(stateDir));
  return { CLOUDDROVE_SANDBOX_DIR: stateDir, CLOUDDROVE_SANDBOX_SPEED: "200" };
}

const failedChecks = (stdout: string) =>
  (JSON.parse(stdout) as { checks: Array<{ id: string; ok: boolean }> }).checks
    .filter((c) => !c.ok)
    .map((c) => c.id);

describe("cluster --sandbox", () => {
  it("create sets up a three-zone simulated cluster that verify passes, without touching clouddrove.yaml", async () => {
    const cwd = tempDir();
    const env = cleanEnv(sandboxEnv(cwd));
    const dry = await runCli(["cluster", "create", "--sandbox", "--dry-run"], { env, cwd });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("Create the simulated cluster clouddrove");
    expect(existsSync(env.CLOUDDROVE_SANDBOX_DIR as string)).toBe(false);

    const create = await runCli(["cluster", "create", "--sandbox"], { env, cwd });
    expect(create.stderr).not.toContain("Error");
    expect(create.code).toBe(0);
    expect(create.stdout).toContain(
      "Simulated cluster clouddrove (eu-west-1: eu-west-1a, eu-west-1b, eu-west-1c) created.",
    );
    expect(create.stdout).toContain("Cluster clouddrove is ready for the registry (7 checks passed).");
    expect(create.stderr).toContain("[COMPLETED]");
    expect(existsSync(join(cwd, "clouddrove.yaml"))).toBe(false);

    const verify = await runCli(["cluster", "verify", "--sandbox", "-o", "json"], { env, cwd });
    expect(verify.code).toBe(0);
    expect(failedChecks(verify.stdout)).toEqual([]);
    // The sandbox's default version is its EKS's default: nothing to warn about.
    expect(JSON.parse(verify.stdout).warnings).toEqual([]);

    const again = await runCli(["cluster", "create", "--sandbox", "-o", "json"], { env, cwd });
    expect(again.code).toBe(0);
    // The file system is the one the sandbox's EFS holds for the cluster, asked of it as of AWS (in this
    // process, once the background sandbox the commands used is stopped).
    await down(env.CLOUDDROVE_SANDBOX_DIR as string);
    const sandbox = await startSandbox({ stateDir: env.CLOUDDROVE_SANDBOX_DIR, speed: 200, runtime: false });
    cleanups.push(() => sandbox.stop());
    const efs = new EFSClient(awsClientConfig("EFS", sandbox.aws.region, awsEnvironment(sandbox.aws)));
    const fileSystems = (await efs.send(new DescribeFileSystemsCommand({}))).FileSystems ?? [];
    expect(fileSystems).toHaveLength(1);
    expect(fileSystems[0]?.Tags).toContainEqual({ Key: "clouddrove.io/cluster", Value: "clouddrove" });
    expect(JSON.parse(again.stdout)).toMatchObject({
      sandbox: true,
      reconciled: true,
      fileSystemId: fileSystems[0]?.FileSystemId,
    });
    expect(create.stdout).toContain(
      `EFS file system ${fileSystems[0]?.FileSystemId}, on the sandbox's AWS endpoint`,
    );
    // The backup bucket and role, made through the same steps on the sandbox's S3 and IAM, kept on a re-run.
    const bucket = "clouddrove-backup-000000000000-eu-west-1-clouddrove";
    const roleName = "clouddrove-backup-eu-west-1-clouddrove";
    expect(dry.stdout).toContain("the backup bucket and the backup job's IRSA role");
    expect(JSON.parse(again.stdout)).toMatchObject({
      backupBucket: bucket,
      backupRoleArn: `arn:aws:iam::000000000000:role/${roleName}`,
    });
    expect(create.stderr).toContain(`Backup bucket ${bucket} (created)`);
    // The second run found both (BucketAlreadyOwnedByYou; the role brought in line).
    expect(JSON.parse(again.stdout).done).toEqual(
      expect.arrayContaining([`protected S3 bucket ${bucket}`, `updated IAM role ${roleName}`]),
    );
    const env2 = awsEnvironment(sandbox.aws);
    const s3 = new S3Client({ ...awsClientConfig("S3", sandbox.aws.region, env2), forcePathStyle: true });
    const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
    expect(block.PublicAccessBlockConfiguration?.RestrictPublicBuckets).toBe(true);
    s3.destroy();
    const iam = new IAMClient(awsClientConfig("IAM", sandbox.aws.region, env2));
    const role = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    expect(decodeURIComponent(role.Role?.AssumeRolePolicyDocument as string)).toContain(
      "system:serviceaccount:clouddrove:registry-clouddrove-backup",
    );
    iam.destroy();
  });

  it("verify warns (text and JSON) when the cluster's Kubernetes version is in EKS extended support", async () => {
    const cwd = tempDir();
    const env = cleanEnv(sandboxEnv(cwd));
    const seeded = await startSandbox({
      stateDir: env.CLOUDDROVE_SANDBOX_DIR,
      kubernetesVersion: "1.30",
      speed: 200,
    });
    await seeded.stop();
    const verify = await runCli(["cluster", "verify", "--sandbox", "-o", "json"], { env, cwd });
    const warnings = JSON.parse(verify.stdout).warnings as string[];
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^Kubernetes 1\.30 is in EKS extended support until \d{4}-\d{2}-\d{2}: EKS bills \$0\.60 per cluster-hour/,
    );
    expect(warnings[0]).toContain("towards 1.33");
    const text = await runCli(["cluster", "verify", "--sandbox"], { env, cwd });
    expect(text.stdout).toContain(`! ${warnings[0]}`);
  });

  it("verify fails a simulated cluster whose nodes are in two zones", async () => {
    const cwd = tempDir();
    const env = cleanEnv(sandboxEnv(cwd));
    // A sandbox seeded over two zones (as a cluster made without explicit zones in us-east-1 could be).
    const seeded = await startSandbox({
      stateDir: env.CLOUDDROVE_SANDBOX_DIR,
      zones: ["eu-west-1a", "eu-west-1b"],
      nodes: 3,
      speed: 200,
    });
    await seeded.stop();

    // As on EKS: the cluster's VPC has no subnet in the region's third zone for a mount target.
    const create = await runCli(["cluster", "create", "--sandbox", "-o", "json"], { env, cwd });
    expect(create.code).toBe(1);
    expect(create.stderr).toMatch(/The cluster's VPC vpc-0[0-9a-f]{16} has no subnet in eu-west-1c\./);

    const verify = await runCli(["cluster", "verify", "--sandbox", "-o", "json"], { env, cwd });
    expect(verify.code).toBe(1);
    expect(failedChecks(verify.stdout)).toEqual(["control-plane-zones", "worker-nodes"]);
    const text = await runCli(["cluster", "verify", "--sandbox"], { env, cwd });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      />= 3 Ready workers, each in a distinct zone\s+FAIL\s+3 Ready node\(s\) in 2 zone\(s\)/,
    );
  });

  it("verify without a sandbox cluster says how to make one (exit 2)", async () => {
    const run = await runCli(["cluster", "verify", "--sandbox"], { env: cleanEnv(sandboxEnv()) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Hint: Create it with `clouddrove cluster create --sandbox`.");
  });
});

describe("cluster create | verify | delete on EKS (the sandbox standing in for the cluster)", () => {
  let sandbox: Sandbox;
  let aws: FakeAws;

  async function setUp() {
    sandbox = await startSandbox({ speed: 200 });
    cleanups.push(() => sandbox.stop());
    // What the EKS addons in the ClusterConfig would do on a real cluster.
    const kube = await connectKube({ kubeconfigText: sandbox.kubeconfig() });
    await installEksAddons(sandbox);
    const dir = tempDir();
    const sandboxKubeconfig = join(dir, "sandbox-kubeconfig");
    writeFileSync(sandboxKubeconfig, sandbox.kubeconfig());
    const eksctl = fakeEksctl({ FAKE_EKSCTL_KUBECONFIG: sandboxKubeconfig });
    const created = () => eksctl.calls().some((c) => c.argv[0] === "create" && c.argv[1] === "cluster");
    aws = fakeAws({ clusterName: "prod", clusterExists: created, endpoint: sandbox.url });
    cleanups.push(() => aws.restore());
    const kubeconfig = join(dir, "kubeconfig");
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return { eksctl, kube, kubeconfig, cwd: tempDir() };
  }

  it("creates, records the EFS id, applies the storage classes, verifies; a re-run reconciles; delete cleans up first", async () => {
    const { eksctl, kube, kubeconfig, cwd } = await setUp();
    const env = cleanEnv(eksctl.env);
    writeFileSync(
      join(cwd, "clouddrove.yaml"),
      "registry:\n  replicas: 3\nnetwork:\n  allowedCidrs: [10.0.0.0/8]\n",
    );
    const args = [
      "--kubeconfig",
      kubeconfig,
      "cluster",
      "create",
      "--cluster-name",
      "prod",
      "--region",
      "eu-west-1",
    ];

    const create = await runCli(args, { env, cwd });
    expect(create.stderr).not.toContain("Error");
    expect(create.code).toBe(0);
    expect(create.stdout).toContain("Cluster prod (eu-west-1: eu-west-1a, eu-west-1b, eu-west-1c) created.");
    expect(create.stdout).toContain("kubectl now points at it: current context clouddrove-sandbox.");
    expect(create.stdout).toContain("Cluster prod is ready for the registry (7 checks passed).");
    expect(create.stderr).toContain('[✔] EKS cluster "prod" in "eu-west-1" region is ready');
    expect(create.stderr).toContain("[!] recommended policies were found");
    expect(eksctl.calls().map((c) => c.argv.slice(0, 2))).toEqual([["version"], ["create", "cluster"]]);

    // Shared storage: one encrypted file system, a mount target per zone, NFS from the nodes.
    expect(aws.state.fileSystems).toHaveLength(1);
    const fs = aws.state.fileSystems[0];
    expect(fs?.Encrypted).toBe(true);
    expect(fs?.Tags).toContainEqual({ Key: "clouddrove.io/cluster", Value: "prod" });
    expect(aws.state.mountTargets.map((m) => m.AvailabilityZoneName).sort()).toEqual([
      "eu-west-1a",
      "eu-west-1b",
      "eu-west-1c",
    ]);
    expect(aws.state.mountTargets.every((m) => m.SubnetId?.startsWith("subnet-0prv"))).toBe(true);
    expect(aws.state.securityGroups).toHaveLength(1);
    expect(aws.state.securityGroups[0]?.ingress).toEqual([
      {
        IpProtocol: "tcp",
        FromPort: 2049,
        ToPort: 2049,
        UserIdGroupPairs: [{ GroupId: "sg-0c1d2e3f4a5b6c7d8", Description: "cluster nodes (NFS)" }],
      },
    ]);
    // Backups: the bucket (made before eksctl ran) and the IRSA role, recorded beside the EFS id.
    const bucket = "clouddrove-backup-123456789012-eu-west-1-prod";
    const roleArn = "arn:aws:iam::123456789012:role/clouddrove-backup-eu-west-1-prod";
    expect(create.stderr.indexOf(`Backup bucket ${bucket} (created)`)).toBeGreaterThanOrEqual(0);
    expect(create.stderr.indexOf("Backup bucket")).toBeLessThan(create.stderr.indexOf("EKS cluster prod"));
    expect(aws.backup.buckets[bucket]).toMatchObject({
      region: "eu-west-1",
      encryption: {
        Rules: [expect.objectContaining({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } })],
      },
      publicAccessBlock: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
      lifecycle: [expect.objectContaining({ ID: "clouddrove-backup-retention" })],
    });
    expect(JSON.parse(aws.backup.buckets[bucket]?.policy as string).Statement).toEqual([
      expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    ]);
    expect(
      JSON.parse(aws.backup.roles["clouddrove-backup-eu-west-1-prod"]?.trust as string).Statement[0]
        .Condition,
    ).toEqual({
      StringEquals: {
        "oidc.eks.eu-west-1.amazonaws.com/id/0F1E2D3C4B5A69788796A5B4C3D2E1F0:sub":
          "system:serviceaccount:clouddrove:registry-clouddrove-backup",
        "oidc.eks.eu-west-1.amazonaws.com/id/0F1E2D3C4B5A69788796A5B4C3D2E1F0:aud": "sts.amazonaws.com",
      },
    });
    expect(create.stdout).toContain(`Backups go to S3 bucket ${bucket}; the backup job assumes ${roleArn}`);
    const config = parse(readFileSync(join(cwd, "clouddrove.yaml"), "utf8"));
    expect(config).toEqual({
      cluster: { name: "prod", region: "eu-west-1" },
      registry: { replicas: 3 },
      storage: { efs: { fileSystemId: fs?.FileSystemId } },
      network: { allowedCidrs: ["10.0.0.0/8"] },
      backup: { bucket, roleArn },
    });
    expect(await kube.get("storage.k8s.io/v1", "StorageClass", "clouddrove-efs")).toMatchObject({
      provisioner: "efs.csi.aws.com",
      reclaimPolicy: "Retain",
    });

    // Re-running reconciles through eksctl's own commands and creates nothing twice.
    const again = await runCli([...args, "-o", "json"], { env, cwd });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      reconciled: true,
      fileSystemId: fs?.FileSystemId,
      backupBucket: bucket,
      backupRoleArn: roleArn,
    });
    expect(Object.keys(aws.backup.buckets)).toEqual([bucket]);
    expect(
      eksctl
        .calls()
        .slice(3)
        .map((c) => c.argv.filter((a) => !a.startsWith("/") && !a.endsWith(".yaml"))),
    ).toEqual([
      ["create", "nodegroup", "-f"],
      ["create", "addon", "-f"],
      ["update", "addon", "-f"],
      ["utils", "write-kubeconfig", "--cluster", "prod", "--region", "eu-west-1", "--kubeconfig"],
    ]);
    expect(aws.state.fileSystems).toHaveLength(1);
    expect(aws.state.mountTargets).toHaveLength(3);

    const verify = await runCli(["--kubeconfig", kubeconfig, "cluster", "verify", "-o", "json"], {
      env,
      cwd,
    });
    expect(verify.code).toBe(0);
    expect(failedChecks(verify.stdout)).toEqual([]);

    // Delete: the LoadBalancer Service and the mount targets go before eksctl deletes the cluster.
    await kube.apply({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "registry", namespace: "default" },
      spec: { type: "LoadBalancer", selector: { app: "registry" }, ports: [{ port: 5000 }] },
    });
    const remove = await runCli(["--kubeconfig", kubeconfig, "cluster", "delete", "--confirm", "prod"], {
      env,
      cwd,
    });
    expect(remove.stderr).not.toContain("Error");
    expect(remove.code).toBe(0);
    expect(await kube.get("v1", "Service", "registry", "default")).toBeUndefined();
    expect(aws.state.mountTargets.every((m) => m.LifeCycleState === "deleted")).toBe(true);
    expect(aws.state.securityGroups).toEqual([]);
    expect(aws.state.fileSystems[0]?.LifeCycleState).toBe("available");
    expect(eksctl.calls().at(-1)?.argv).toEqual([
      "delete",
      "cluster",
      "--name",
      "prod",
      "--region",
      "eu-west-1",
      "--wait",
    ]);
    const started = (title: string) =>
      remove.stderr.search(new RegExp(`\\[STARTED\\] \\[[\\d:]+\\] ${title}`));
    expect(started("Remove LoadBalancer Services")).toBeGreaterThanOrEqual(0);
    expect(started("Remove LoadBalancer Services")).toBeLessThan(started("Remove the EFS mount targets"));
    expect(started("Remove the EFS mount targets")).toBeLessThan(
      started("Delete the EKS cluster with eksctl"),
    );
    expect(remove.stdout).toContain("deleted 1 LoadBalancer Service(s)");
    expect(remove.stdout).toContain(`EFS file system ${fs?.FileSystemId} was kept with the registry's data.`);
    // Backups outlive the cluster: the bucket stays, and the output says how to delete it by hand.
    expect(remove.stdout).toContain(`Kept S3 bucket ${bucket} and its backups`);
    expect(remove.stdout).toContain(`aws s3 rb s3://${bucket} --force`);
    expect(remove.stdout).toContain("aws iam delete-role --role-name clouddrove-backup-eu-west-1-prod");
    expect(aws.backup.buckets[bucket]).toBeDefined();
  });
});

describe("cluster verify on EKS, the AWS side on the sandbox's AWS endpoint (real SDK clients)", () => {
  /** A sandbox named `prod`, and the environment that points the AWS SDK at its endpoint. */
  async function prodSandbox(options: { addons?: boolean } = {}) {
    const prod = await startSandbox({ speed: 200, clusterName: "prod", runtime: false });
    cleanups.push(() => prod.stop());
    if (options.addons !== false) await installEksAddons(prod);
    return { prod, env: cleanEnv(awsEnvironment(prod.aws)) };
  }

  it("verify refuses a kubeconfig context that points at another cluster", async () => {
    const { prod, env } = await prodSandbox();
    // EKS says cluster prod is at its own endpoint; the kubeconfig reaches another cluster.
    const other = await startSandbox({ speed: 200, runtime: false });
    cleanups.push(() => other.stop());
    const kubeconfig = join(tempDir(), "kubeconfig");
    other.writeKubeconfig(kubeconfig);
    expect(other.url).not.toBe(prod.url);
    const run = await runCli(
      ["--kubeconfig", kubeconfig, "cluster", "verify", "--cluster-name", "prod", "--region", "eu-west-1"],
      { env },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`not at cluster prod (${prod.url})`);
    expect(run.stderr).toContain("aws eks update-kubeconfig --name prod --region eu-west-1");
  });

  it("verify reports network policy off, and what the vpc-cni addon asks for", async () => {
    const { prod, env } = await prodSandbox({ addons: false });
    // The cluster's file system without its mount target in eu-west-1c.
    const efs = new EFSClient(awsClientConfig("EFS", prod.aws.region, env));
    const [fileSystem] = (await efs.send(new DescribeFileSystemsCommand({}))).FileSystems ?? [];
    const targets = await efs.send(
      new DescribeMountTargetsCommand({ FileSystemId: fileSystem?.FileSystemId }),
    );
    const inC = targets.MountTargets?.find((m) => m.AvailabilityZoneName === "eu-west-1c");
    await efs.send(new DeleteMountTargetCommand({ MountTargetId: inC?.MountTargetId }));
    const kubeconfig = join(tempDir(), "kubeconfig");
    prod.writeKubeconfig(kubeconfig);
    const run = await runCli(
      [
        "--kubeconfig",
        kubeconfig,
        "cluster",
        "verify",
        "--cluster-name",
        "prod",
        "--region",
        "eu-west-1",
        "-o",
        "json",
      ],
      { env },
    );
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { checks: Array<{ id: string; ok: boolean; detail: string }> };
    expect(failedChecks(run.stdout)).toEqual(["network-policy", "snapshot-controller", "efs-mount-targets"]);
    expect(report.checks.find((c) => c.id === "network-policy")?.detail).toBe(
      "aws-node has no network policy agent (VPC CNI older than 1.14?); vpc-cni addon asks for it (not rolled out yet?)",
    );
  });
});
