/**
 * `clouddrove upgrade --kubernetes-version` replaces the node through its EKS managed nodegroup: the EKS
 * API's UpdateNodegroupVersion, waited on with DescribeUpdate. Against a kubeconfig, with the AWS
 * environment pointing the SDK at the sandbox's AWS endpoint, which carries the update out as EKS does
 * (new node first in the same zone, the old one drained and removed). (upgrade-sandbox-flag.test.ts: the
 * same with --sandbox.)
 */
import { DescribeNodegroupCommand, DescribeUpdateCommand, EKSClient } from "@aws-sdk/client-eks";
import { afterEach, describe, expect, it } from "vitest";
import { awsEnvironment } from "../../sandbox/src/index.js";
import { awsClientConfig } from "../../src/adapters/aws.js";
import { report, setKubelets, startHarness, type UpgradeHarness } from "./upgrade-harness.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("upgrade --kubernetes-version", () => {
  let h: UpgradeHarness;

  it("asks EKS to update the nodegroup; the replacement node is waited for and uncordoned", async () => {
    h = await startHarness();
    cleanups.push(() => h.stop());
    expect((await h.deploy()).code).toBe(0);
    const sandbox = h.sbx.sandbox;
    setKubelets(sandbox, "v1.31.13-eks-1a2b3c4");
    const target = h.registryNode();
    const zone = (sandbox.store.get("Node", undefined, target) as Any).metadata.labels[
      "topology.kubernetes.io/zone"
    ];
    const others = h.nodeNames().filter((n) => n !== target);

    // Two minors behind: one minor at a time.
    const skipped = await h.upgrade(["--node", target, "--kubernetes-version", "1.33"]);
    expect(skipped.code).toBe(2);
    expect(skipped.stderr).toContain("skips 1 minor version(s)");

    setKubelets(sandbox, "v1.32.9-eks-1a2b3c4");
    // The only AWS environment: the sandbox's endpoint, key and region.
    const aws = awsEnvironment(sandbox.aws);
    const ready = h.watchReady();
    const run = await h.upgrade(["--node", target, "--kubernetes-version", "1.33"], { env: aws });
    ready.stop();
    expect(run.code, run.stderr).toBe(0);
    const eks = new EKSClient(awsClientConfig("EKS", sandbox.aws.region, aws));
    const bump = report(run.stdout).steps.find((s: Any) => s.title.startsWith(`Upgraded ${target}`));
    const updateId = /EKS update (\S+)\)/.exec(bump?.detail ?? "")?.[1];
    expect(updateId, bump?.detail).toBeDefined();
    const { update } = await eks.send(
      new DescribeUpdateCommand({ name: "clouddrove", updateId, nodegroupName: `ng-${zone}` }),
    );
    expect(update?.status).toBe("Successful");
    expect(update?.params).toContainEqual({ type: "Version", value: "1.33" });
    for (const zoneOfGroup of ["eu-west-1a", "eu-west-1b", "eu-west-1c"]) {
      const { nodegroup } = await eks.send(
        new DescribeNodegroupCommand({ clusterName: "clouddrove", nodegroupName: `ng-${zoneOfGroup}` }),
      );
      expect(nodegroup?.version).toBe(zoneOfGroup === zone ? "1.33" : "1.32");
    }
    const result = report(run.stdout);
    const replacement = result.replacements[target] as string;
    expect(replacement).toBeDefined();
    expect(sandbox.store.get("Node", undefined, target)).toBeUndefined();
    const fresh = sandbox.store.get("Node", undefined, replacement) as Any;
    expect(fresh.metadata.labels["topology.kubernetes.io/zone"]).toBe(zone);
    expect(fresh.status.nodeInfo.kubeletVersion).toMatch(/^v1\.33\./);
    expect(fresh.spec.unschedulable).toBeUndefined();
    expect(result.steps.find((s: Any) => s.title.startsWith("Uncordoned"))?.title).toContain(
      `${replacement} (the replacement of ${target})`,
    );
    // The nodes not upgraded keep their kubelet; the registry runs one replica per node, on the new one too.
    for (const other of others) {
      expect(sandbox.store.get("Node", undefined, other)?.status.nodeInfo.kubeletVersion).toBe(
        "v1.32.9-eks-1a2b3c4",
      );
    }
    expect(
      h
        .registryPods()
        .filter((p: Any) => !p.metadata.deletionTimestamp)
        .map((p: Any) => p.spec.nodeName)
        .sort(),
    ).toEqual([replacement, ...others].sort());
    expect(ready.min()).toBeGreaterThanOrEqual(2);
  });
});
