/**
 * Every eksctl ClusterConfig clouddrove renders (src/core/cluster/cluster-config.ts), checked by eksctl
 * itself: the real eksctl 0.215.0 (scripts/components.sh eksctl) runs `create cluster -f FILE --dry-run`,
 * which loads and validates the file, asks AWS which Kubernetes versions EKS offers and which zones offer
 * the instance type, and prints the ClusterConfig it would create. AWS is moto (scripts/components.sh
 * moto) behind test/support/eks-versions-proxy.ts, which answers the one operation moto lacks.
 *
 * Also: clouddrove's reading of eksctl's failures (src/core/cluster/eksctl-output.ts) on what the real
 * eksctl prints, and the fake eksctl the cluster tests use (test/support/fake-eksctl/eksctl) printing
 * what the real one prints for the calls that can run without creating a cluster.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ClusterValues } from "../../src/core/cluster/cluster-config.js";
import { explainEksctlFailure, parseEksctlLine } from "../../src/core/cluster/eksctl-output.js";
import { checkEksctlVersion } from "../../src/core/cluster/preflight.js";
import { UsageError } from "../../src/errors.js";
import { runBuiltCliAsync } from "../support/built-cli.js";
import { renderExampleClusterConfig } from "../support/cluster-config.js";
import {
  type EksVersionsProxy,
  PROXY_EKS_VERSIONS,
  startEksVersionsProxy,
} from "../support/eks-versions-proxy.js";
import { FAKE_EKSCTL_DIR } from "../support/fake-eksctl/index.js";
import { type MotoServer, startMoto } from "../support/moto.js";
import { EKSCTL_VERSION, realEksctl, runEksctlBinary } from "../support/real-eksctl.js";
import { tempDir as newTempDir } from "../support/run-cli.js";

const FAKE = join(FAKE_EKSCTL_DIR, "eksctl");

let moto: MotoServer;
let proxy: EksVersionsProxy;
let awsEnv: Record<string, string>;
const dirs: string[] = [];
const tempDir = () => {
  const dir = newTempDir();
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  realEksctl(); // fails first, naming the build command, when eksctl is not built
  moto = await startMoto("eu-west-1");
  proxy = await startEksVersionsProxy(moto.endpoint);
  awsEnv = {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "eu-west-1",
    // No instance metadata service here: without this the SDK would wait for one.
    AWS_EC2_METADATA_DISABLED: "true",
  };
});

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const render = (values: Partial<ClusterValues>) => renderExampleClusterConfig(values).text;

/** `eksctl create cluster -f FILE` (the real one with --dry-run, or the fake failing as `fakeFailure`). */
function createCluster(
  configText: string,
  options: { env?: Record<string, string | undefined>; fakeFailure?: string } = {},
) {
  const cwd = tempDir();
  writeFileSync(join(cwd, "cluster.yaml"), configText);
  const args = ["create", "cluster", "-f", "cluster.yaml"];
  if (options.fakeFailure)
    return runEksctlBinary(args, { cwd, env: { FAKE_EKSCTL_FAIL: options.fakeFailure }, binary: FAKE });
  return runEksctlBinary([...args, "--dry-run"], { cwd, env: options.env ?? awsEnv });
}
const dryRun = (configText: string) => createCluster(configText);

interface CompletedConfig {
  metadata: { name: string; region: string; version: string };
  availabilityZones: string[];
  iam: { withOIDC: boolean };
  vpc: { nat: { gateway: string } };
  addons: Array<{ name: string }>;
  managedNodeGroups: Array<{
    name: string;
    availabilityZones: string[];
    instanceType: string;
    desiredCapacity: number;
    privateNetworking: boolean;
  }>;
}

const cases: Array<Partial<ClusterValues>> = [
  {},
  { name: "prod-registry", region: "us-east-1", zones: ["us-east-1a", "us-east-1b", "us-east-1d"] },
  {
    name: "tokyo",
    region: "ap-northeast-1",
    zones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
    kubernetesVersion: "1.31",
    instanceType: "t3.large",
  },
  { kubernetesVersion: "1.34", instanceType: "m7g.large" },
];

describe("eksctl accepts every ClusterConfig clouddrove renders", () => {
  for (const values of cases) {
    const label = `${values.region ?? "eu-west-1"} ${values.kubernetesVersion ?? "1.33"} ${values.instanceType ?? "m6i.large"}`;
    it(label, async () => {
      const run = await dryRun(render(values));
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      // What eksctl would create: the file as eksctl completed it, with clouddrove's choices intact.
      const config = parse(run.stdout) as CompletedConfig;
      const zones = values.zones ?? ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
      expect(config.metadata).toMatchObject({
        name: values.name ?? "clouddrove",
        region: values.region ?? "eu-west-1",
        version: values.kubernetesVersion ?? "1.33",
      });
      expect(config.availabilityZones).toEqual(zones);
      expect(config.iam.withOIDC).toBe(true);
      expect(config.vpc.nat.gateway).toBe("HighlyAvailable");
      expect(config.addons.map((a) => a.name)).toEqual([
        "vpc-cni",
        "aws-efs-csi-driver",
        "aws-ebs-csi-driver",
        "snapshot-controller",
        "eks-pod-identity-agent",
      ]);
      expect(
        config.managedNodeGroups.map((g) => [
          g.name,
          g.availabilityZones,
          g.desiredCapacity,
          g.privateNetworking,
        ]),
      ).toEqual(zones.map((zone) => [`ng-${zone}`, [zone], 1, true]));
      expect(new Set(config.managedNodeGroups.map((g) => g.instanceType))).toEqual(
        new Set([values.instanceType ?? "m6i.large"]),
      );
    });
  }

  it("the built CLI's `cluster create --dry-run -o yaml`, asking moto, is what eksctl accepts", async () => {
    const cli = await runBuiltCliAsync(
      ["cluster", "create", "--region", "eu-west-1", "--dry-run", "-o", "yaml"],
      {
        cwd: tempDir(),
        env: awsEnv,
      },
    );
    expect(cli.stderr).toBe("");
    expect(cli.code).toBe(0);
    // clouddrove took the zones and the default version from moto and the proxy, as it would from AWS.
    expect(parse(cli.stdout).metadata.version).toBe(PROXY_EKS_VERSIONS[PROXY_EKS_VERSIONS.length - 2]);
    const run = await dryRun(cli.stdout);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });
});

describe("what the real eksctl refuses, and how clouddrove reads it", () => {
  it("a Kubernetes minor EKS no longer lists: a usage error naming the versions", async () => {
    const run = await dryRun(render({ kubernetesVersion: "1.29" }));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "invalid version, 1.29 is no longer supported, supported values: 1.31, 1.32, 1.33, 1.34",
    );
    const error = explainEksctlFailure({
      command: "eksctl create cluster -f cluster.yaml",
      lines: [],
      stderr: run.stderr,
    });
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain("supported values: 1.31, 1.32, 1.33, 1.34");
  });

  it("a zone that does not offer the instance type is refused before anything is created", async () => {
    const run = await dryRun(render({ zones: ["eu-west-1a", "eu-west-1b", "eu-west-1z"] }));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('none of the provided AZs "eu-west-1z" support instance type m6i.large');
    // Nothing but questions was asked of AWS: no CloudFormation, no EKS cluster.
    expect(proxy.requests.filter((r) => /cloudformation|CreateCluster/i.test(r))).toEqual([]);
  });

  it("a version written as a number (1.30 read as 1.3) is refused when the file is loaded", async () => {
    const run = await dryRun(render({}).replace('version: "1.33"', "version: 1.30"));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "cannot unmarshal number into Go struct field ClusterMeta.metadata.version of type string",
    );
  });
});

describe("the fake eksctl prints what the real one prints", () => {
  it("eksctl version: the release, which clouddrove's minimum accepts", async () => {
    const real = await runEksctlBinary(["version"], { cwd: tempDir(), env: {} });
    const fake = await runEksctlBinary(["version"], { cwd: tempDir(), env: {}, binary: FAKE });
    expect(real.stdout).toBe(`${EKSCTL_VERSION}\n`);
    expect(fake.stdout).toBe(real.stdout);
    expect(checkEksctlVersion(real.stdout)).toBe(EKSCTL_VERSION);
  });

  it("a version EKS does not list: the same error line", async () => {
    const config = render({ kubernetesVersion: "1.40" });
    const real = await dryRun(config);
    const fake = await createCluster(config, { fakeFailure: "invalid-version" });
    expect(real.code).toBe(1);
    expect(fake.code).toBe(real.code);
    expect(fake.stderr).toBe(real.stderr);
  });

  it("no AWS credentials: the same error line", async () => {
    const noCredentials = { ...awsEnv, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined };
    const real = await createCluster(render({}), { env: noCredentials });
    const fake = await createCluster(render({}), { fakeFailure: "credentials" });
    expect(real.code).toBe(1);
    expect(fake.code).toBe(real.code);
    expect(fake.stderr).toBe(real.stderr);
  });

  it("utils write-kubeconfig: the same success line, the context written", async () => {
    const eks = new EKSClient({
      endpoint: moto.endpoint,
      region: "eu-west-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    await eks.send(
      new CreateClusterCommand({
        name: "written",
        roleArn: "arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig: { subnetIds: ["subnet-1", "subnet-2"] },
        version: "1.33",
      }),
    );
    const cwd = tempDir();
    const args = (file: string) => [
      "utils",
      "write-kubeconfig",
      "--cluster",
      "written",
      "--region",
      "eu-west-1",
      "--kubeconfig",
      join(cwd, file),
    ];
    const real = await runEksctlBinary(args("real.kubeconfig"), { cwd, env: awsEnv });
    const fake = await runEksctlBinary(args("fake.kubeconfig"), { cwd, env: {}, binary: FAKE });
    expect(real.code).toBe(0);
    expect(fake.code).toBe(0);
    const line = (out: string) => {
      const parsed = parseEksctlLine(out.trim());
      return [parsed.level, parsed.message.replace(/"[^"]*\.kubeconfig"/, '"FILE"')];
    };
    expect(line(fake.stdout)).toEqual(line(real.stdout));
    expect(line(real.stdout)).toEqual(["success", 'saved kubeconfig as "FILE"']);
  });
});
