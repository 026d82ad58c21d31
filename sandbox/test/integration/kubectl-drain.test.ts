/**
 * The real kubectl against a sandbox with its simulated controllers: a 3-replica Deployment with
 * required anti-affinity on exactly three nodes rolls out; a drain evicts only what the PDB allows, the
 * evicted replica stays Pending with the scheduler's reason; uncordon lets it run again.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ONE_AT_A_TIME, registryDeployment, registryManifest } from "../support/registry-objects.js";
import { startTestSandbox, type TestSandbox } from "../support/sandbox.js";

const manifest = registryManifest(
  registryDeployment({
    metadata: { namespace: "default" },
    strategy: ONE_AT_A_TIME,
    container: {
      readinessProbe: { httpGet: { path: "/", port: 5000 }, initialDelaySeconds: 5, periodSeconds: 10 },
    },
  }),
);

describe("kubectl rollout and drain against the simulated cluster", () => {
  let t: TestSandbox;

  beforeAll(async () => {
    // 200 simulated seconds per real second: probes and grace periods pass in real milliseconds.
    t = await startTestSandbox({ controllers: true, speed: 200 });
    const path = join(t.dir, "registry.yaml");
    writeFileSync(path, manifest);
    const applied = await t.kubectl("apply", "--server-side", "-f", path);
    expect(applied.exitCode).toBe(0);
  });

  afterAll(async () => {
    await t?.stop();
  });

  it("seeds three nodes in three zones with EKS labels", async () => {
    const result = await t.kubectl(
      "get",
      "nodes",
      "-L",
      "topology.kubernetes.io/zone,eks.amazonaws.com/nodegroup",
    );
    const rows = result.stdout.trim().split("\n").slice(1);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r.split(/\s+/).at(-2)).sort()).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    expect(rows.every((r) => /\sReady\s/.test(r))).toBe(true);
  });

  it("completes `kubectl rollout status`", async () => {
    const result = await t.kubectl("rollout", "status", "deployment/registry", "--timeout=60s");
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain('deployment "registry" successfully rolled out');
    const nodes = t.sandbox.store.list("Pod", { labelSelector: "app=registry" }).map((p) => p.spec.nodeName);
    expect(new Set(nodes).size).toBe(3);
  });

  it("drains a node: evicts what the PDB allows, and the evicted replica stays Pending", async () => {
    const store = t.sandbox.store;
    const victim = store.list("Pod", { labelSelector: "app=registry" })[0]!;
    const node = victim.spec.nodeName as string;
    const drained = await t.kubectl("drain", node, "--ignore-daemonsets", "--timeout=60s");
    expect(drained.exitCode).toBe(0);
    expect(drained.stdout).toContain(`pod/${victim.metadata.name} evicted`);
    expect(drained.stdout).toContain(`node/${node} drained`);
    expect(drained.stderr).toContain("ignoring DaemonSet-managed Pods");
    expect(store.get("Node", undefined, node)!.spec.unschedulable).toBe(true);

    const pending = await t.kubectl(
      "wait",
      "pods",
      "-l",
      "app=registry",
      '--for=jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}=Unschedulable',
      "--field-selector=status.phase=Pending",
      "--timeout=60s",
    );
    expect(pending.exitCode).toBe(0);
    const stuck = store.list("Pod", { labelSelector: "app=registry", fieldSelector: "status.phase=Pending" });
    expect(stuck).toHaveLength(1);
    const scheduled = stuck[0]!.status.conditions.find((c: { type: string }) => c.type === "PodScheduled");
    expect(scheduled.message).toContain(
      "1 node(s) were unschedulable, 2 node(s) didn't match pod anti-affinity rules",
    );
    const pdb = await t.kubectl("get", "pdb", "registry", "-o", "jsonpath={.status.disruptionsAllowed}");
    expect(pdb.stdout).toBe("0");
  });

  it("a second drain finds nothing more it may evict before its deadline", async () => {
    const store = t.sandbox.store;
    const running = store.list("Pod", {
      labelSelector: "app=registry",
      fieldSelector: "status.phase=Running",
    });
    const node = running[0]!.spec.nodeName as string;
    const result = await t.kubectl("drain", node, "--ignore-daemonsets", "--timeout=3s");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(
      store.get("Pod", "default", running[0]!.metadata.name)?.metadata.deletionTimestamp,
    ).toBeUndefined();
    await t.kubectl("uncordon", node);
  });

  it("uncordon lets the Pending replica run", async () => {
    const cordoned = t.sandbox.store.list("Node").filter((n) => n.spec.unschedulable);
    expect(cordoned).toHaveLength(1);
    await t.kubectl("uncordon", cordoned[0]!.metadata.name);
    const rolled = await t.kubectl("rollout", "status", "deployment/registry", "--timeout=60s");
    expect(rolled.exitCode).toBe(0);
    const running = t.sandbox.store.list("Pod", {
      labelSelector: "app=registry",
      fieldSelector: "status.phase=Running",
    });
    expect(running).toHaveLength(3);
  });
});
