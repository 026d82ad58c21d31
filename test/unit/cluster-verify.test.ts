import { describe, expect, it } from "vitest";
import {
  deploymentAvailable,
  networkPolicyFromAddonConfig,
  networkPolicyFromDaemonSet,
  nodeFacts,
} from "../../src/core/cluster/facts.js";
import { deletePlan } from "../../src/core/cluster/plan.js";
import { evaluateCluster, renderVerifyTable, type VerifyFacts } from "../../src/core/cluster/verify.js";

const zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

function node(name: string, zone: string | undefined, ready = true) {
  const labels: Record<string, string> = zone ? { "topology.kubernetes.io/zone": zone } : {};
  return {
    metadata: { name, labels },
    status: {
      conditions: [
        { type: "MemoryPressure", status: "False" },
        { type: "Ready", status: ready ? "True" : "False" },
      ],
    },
  };
}

function healthy(): VerifyFacts {
  return {
    controlPlaneSubnetZones: [...zones, ...zones],
    nodes: nodeFacts(zones.map((z, i) => node(`ip-10-0-${i}-1.eu-west-1.compute.internal`, z))),
    networkPolicy: {
      enabled: true,
      evidence: "aws-node container aws-eks-nodeagent: --enable-network-policy=true",
    },
    csiDrivers: ["ebs.csi.aws.com", "efs.csi.aws.com"],
    snapshotController: { present: true, ready: true },
    efs: { fileSystemId: "fs-0123456789abcdef0", mountTargetZones: [...zones] },
  };
}

const failing = (facts: VerifyFacts) =>
  evaluateCluster("c", facts)
    .checks.filter((c) => !c.ok)
    .map((c) => c.id);

describe("cluster verify", () => {
  it("passes a cluster with three zones, three Ready workers, network policy, drivers and mount targets", () => {
    const report = evaluateCluster("c", healthy());
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual([
      "control-plane-zones",
      "worker-nodes",
      "network-policy",
      "efs-csi-driver",
      "ebs-csi-driver",
      "snapshot-controller",
      "efs-mount-targets",
    ]);
  });

  it("warns, without failing, when the cluster's version is in EKS extended support; the table shows it", () => {
    const facts: VerifyFacts = {
      ...healthy(),
      kubernetes: {
        version: "1.33",
        versions: [
          { version: "1.33", support: "extended", isDefault: false },
          { version: "1.35", support: "standard", isDefault: true },
        ],
      },
    };
    const report = evaluateCluster("c", facts);
    expect(report.ok).toBe(true);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toContain("Kubernetes 1.33 is in EKS extended support");
    expect(renderVerifyTable(report)).toContain(`! ${report.warnings[0]}`);
    expect(evaluateCluster("c", healthy()).warnings).toEqual([]);
  });

  it("fails workers spread over two zones, even when there are three of them", () => {
    const facts = healthy();
    facts.nodes = nodeFacts([node("a", "eu-west-1a"), node("b", "eu-west-1b"), node("c", "eu-west-1b")]);
    expect(failing(facts)).toEqual(["worker-nodes"]);
    expect(evaluateCluster("c", facts).checks[1]?.detail).toBe(
      "3 Ready node(s) in 2 zone(s): eu-west-1a, eu-west-1b",
    );
  });

  it("does not count NotReady nodes or nodes without a zone", () => {
    const facts = healthy();
    facts.nodes = nodeFacts([
      node("a", "eu-west-1a"),
      node("b", "eu-west-1b"),
      node("c", "eu-west-1c", false),
      node("d", undefined),
    ]);
    const check = evaluateCluster("c", facts).checks.find((c) => c.id === "worker-nodes");
    expect(check?.ok).toBe(false);
    expect(check?.detail).toContain("not Ready: c");
    expect(check?.detail).toContain("without a zone label: d");
  });

  it("fails a control plane in two zones and an unknown one", () => {
    const facts = healthy();
    facts.controlPlaneSubnetZones = ["eu-west-1a", "eu-west-1b", "eu-west-1a"];
    expect(failing(facts)).toEqual(["control-plane-zones"]);
    facts.controlPlaneSubnetZones = { unknown: "EKS has no cluster named c" };
    expect(evaluateCluster("c", facts).checks[0]?.detail).toBe("EKS has no cluster named c");
  });

  it("fails when network policy is off, drivers or the snapshot controller are missing", () => {
    const facts = healthy();
    facts.networkPolicy = networkPolicyFromDaemonSet(undefined);
    facts.csiDrivers = ["ebs.csi.aws.com"];
    facts.snapshotController = deploymentAvailable(undefined);
    expect(failing(facts)).toEqual(["network-policy", "efs-csi-driver", "snapshot-controller"]);
  });

  it("fails when a worker zone has no EFS mount target, or there is no file system", () => {
    const facts = healthy();
    facts.efs = { fileSystemId: "fs-0123456789abcdef0", mountTargetZones: ["eu-west-1a", "eu-west-1b"] };
    const check = evaluateCluster("c", facts).checks.find((c) => c.id === "efs-mount-targets");
    expect(check?.ok).toBe(false);
    expect(check?.detail).toContain("missing in eu-west-1c");
    facts.efs = undefined;
    expect(failing(facts)).toEqual(["efs-mount-targets"]);
  });

  it("renders a table with a hint for each failed check", () => {
    const facts = healthy();
    facts.networkPolicy = {
      enabled: false,
      evidence: "aws-node container aws-eks-nodeagent: --enable-network-policy=false",
    };
    const text = renderVerifyTable(evaluateCluster("prod", facts));
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^CHECK\s+RESULT\s+DETAIL$/);
    expect(text).toMatch(
      /network-policy enforcement is on\s+FAIL\s+aws-node container aws-eks-nodeagent: --enable-network-policy=false/,
    );
    expect(text).toContain("Cluster prod: 1 of 7 checks failed.");
    expect(text).toContain('{"enableNetworkPolicy": "true"}');
  });
});

describe("facts read from cluster objects", () => {
  it("finds the network policy agent's flag in the aws-node DaemonSet", () => {
    const daemonSet = (args: string[]) => ({
      spec: {
        template: { spec: { containers: [{ name: "aws-node" }, { name: "aws-eks-nodeagent", args }] } },
      },
    });
    expect(
      networkPolicyFromDaemonSet(daemonSet(["--enable-ipv6=false", "--enable-network-policy=true"])).enabled,
    ).toBe(true);
    expect(networkPolicyFromDaemonSet(daemonSet(["--enable-network-policy=false"])).enabled).toBe(false);
    expect(networkPolicyFromDaemonSet(daemonSet([])).evidence).toContain("no network policy agent");
  });

  it("reads the vpc-cni addon's configurationValues JSON string", () => {
    expect(networkPolicyFromAddonConfig('{"enableNetworkPolicy": "true"}')).toBe(true);
    expect(networkPolicyFromAddonConfig('{"enableNetworkPolicy": "false"}')).toBe(false);
    expect(networkPolicyFromAddonConfig("not json")).toBe(false);
    expect(networkPolicyFromAddonConfig(undefined)).toBe(false);
  });

  it("counts a Deployment as running when a replica is available", () => {
    expect(deploymentAvailable({ status: { availableReplicas: 2 } })).toEqual({ present: true, ready: true });
    expect(deploymentAvailable({ status: {} })).toEqual({ present: true, ready: false });
  });
});

describe("the delete plan", () => {
  it("lists what blocks the VPC first and keeps the data unless asked", () => {
    const plan = deletePlan({
      name: "prod",
      region: "eu-west-1",
      clusterExists: true,
      loadBalancers: [{ namespace: "clouddrove", name: "registry" }],
      fileSystemId: "fs-0123456789abcdef0",
      mountTargets: [{ id: "fsmt-1", zone: "eu-west-1a" }],
      securityGroupId: "sg-1",
      deleteData: false,
      eksctlCommand: "eksctl delete cluster --name prod --region eu-west-1 --wait",
    });
    expect(plan).toEqual([
      "Delete EKS cluster prod in eu-west-1:",
      "  - delete LoadBalancer Service clouddrove/registry",
      "  - delete EFS mount target fsmt-1 (eu-west-1a)",
      "  - delete security group sg-1",
      "  - keep EFS file system fs-0123456789abcdef0 (the registry's data; --delete-data deletes it)",
      "  - run: eksctl delete cluster --name prod --region eu-west-1 --wait",
    ]);
  });
});
