/**
 * Disruptions on the simulated cluster: PodDisruptionBudget status, eviction against a cordoned node
 * with required anti-affinity, NotReady nodes, and EKS managed node group upgrades.
 */
import { describe, expect, it } from "vitest";
import { evictPod } from "../../src/controllers/eviction.js";
import { injectProbeFailure, setNodeReady, upgradeNodegroup } from "../../src/controllers/index.js";
import type { ControllerContext } from "../../src/controllers/runtime.js";
import { OperationError } from "../../src/errors.js";
import { ApiError, type KubeObject } from "../../src/types.js";
import { ONE_AT_A_TIME, registryDeployment } from "../support/registry-objects.js";
import { type SimulatedCluster, simulatedClusterPerTest } from "../support/simulated-cluster.js";

const startCluster = simulatedClusterPerTest({ seed: 7 });

/** Replicas that go one at a time, and a readiness probe a test can fail (two failed periods). */
const registry = () =>
  registryDeployment({
    strategy: ONE_AT_A_TIME,
    podSpec: { terminationGracePeriodSeconds: 10 },
    container: {
      readinessProbe: { httpGet: { path: "/", port: 5000 }, periodSeconds: 5, failureThreshold: 2 },
      livenessProbe: { httpGet: { path: "/", port: 5000 }, periodSeconds: 10 },
    },
  });

function budget(spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "registry", namespace: "registry" },
    spec: { selector: { matchLabels: { app: "registry" } }, ...spec },
  };
}

const pods = (c: SimulatedCluster) => c.store.list("Pod", { namespace: "registry" });
const pdb = (c: SimulatedCluster) => c.store.get("PodDisruptionBudget", "registry", "registry")!;
const ready = (pod: KubeObject) =>
  (pod.status?.conditions ?? []).some(
    (x: { type: string; status: string }) => x.type === "Ready" && x.status === "True",
  );
const allReady = (c: SimulatedCluster, n = 3) => pods(c).length === n && pods(c).every(ready);
/** The controllers' own context: evictPod needs the store and clock, and the shared event recorder. */
const evictionContext = (c: SimulatedCluster) =>
  ({ store: c.store, clock: c.clock }) as unknown as ControllerContext;

describe("PodDisruptionBudget status", () => {
  it.each([
    [{ minAvailable: 2 }, { expectedPods: 3, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 }],
    [{ maxUnavailable: 1 }, { expectedPods: 3, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 }],
    [
      { minAvailable: "50%" },
      { expectedPods: 3, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 },
    ],
    [
      { maxUnavailable: "34%" },
      { expectedPods: 3, desiredHealthy: 1, currentHealthy: 3, disruptionsAllowed: 2 },
    ],
    [{ minAvailable: 3 }, { expectedPods: 3, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 }],
  ])("%o gives %o, and follows pod readiness", async (spec, expected) => {
    const c = startCluster();
    c.store.create(registry());
    c.store.create(budget(spec));
    await c.until(() => allReady(c) && pdb(c).status?.currentHealthy === 3);
    expect(pdb(c).status).toMatchObject({ ...expected, observedGeneration: 1 });
    const condition = pdb(c).status.conditions.find((x: { type: string }) => x.type === "DisruptionAllowed");
    expect(condition).toMatchObject({
      status: expected.disruptionsAllowed > 0 ? "True" : "False",
      reason: expected.disruptionsAllowed > 0 ? "SufficientPods" : "InsufficientPods",
    });

    // A replica whose readiness probe fails stops counting as healthy (after failureThreshold periods).
    injectProbeFailure(c, "registry", pods(c)[0]!.metadata.name, "registry", "readiness", true);
    await c.until(() => pdb(c).status.currentHealthy === 2, 60_000);
    expect(pdb(c).status.disruptionsAllowed).toBe(Math.max(0, expected.disruptionsAllowed - 1));
  });
});

describe("eviction and cordoned nodes", () => {
  it("evicts what the budget allows; the replacement stays Pending with the scheduler's reason until uncordon", async () => {
    const c = startCluster();
    c.store.create(registry());
    c.store.create(budget({ maxUnavailable: 1 }));
    await c.until(() => allReady(c) && pdb(c).status?.disruptionsAllowed === 1);
    const victim = pods(c)[0]!;
    const nodeName: string = victim.spec.nodeName;
    const node = structuredClone(c.store.get("Node", undefined, nodeName)!);
    node.spec.unschedulable = true;
    c.store.update(node);
    await c.clock.advance(1_000);
    expect(c.store.get("Node", undefined, nodeName)!.spec.taints).toContainEqual(
      expect.objectContaining({ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }),
    );

    expect(evictPod(evictionContext(c), "registry", victim.metadata.name)).toBe("evicted");
    expect(pdb(c).status.disruptionsAllowed).toBe(0);
    expect(Object.keys(pdb(c).status.disruptedPods ?? {})).toContain(victim.metadata.name);
    // A second eviction is refused while the first replica is down.
    const other = pods(c).find(
      (p) => p.metadata.name !== victim.metadata.name && !p.metadata.deletionTimestamp,
    )!;
    let refusal: unknown;
    try {
      evictPod(evictionContext(c), "registry", other.metadata.name);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ApiError);
    expect((refusal as ApiError).code).toBe(429);
    expect((refusal as ApiError).message).toBe(
      "Cannot evict pod as it would violate the pod's disruption budget.",
    );

    await c.clock.advance(30_000);
    expect(c.store.get("Pod", "registry", victim.metadata.name)).toBeUndefined();
    const replacement = pods(c).find((p) => !p.spec.nodeName)!;
    expect(replacement).toBeDefined();
    const scheduled = replacement.status.conditions.find((x: { type: string }) => x.type === "PodScheduled");
    expect(scheduled).toMatchObject({
      status: "False",
      reason: "Unschedulable",
      message:
        "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
    });
    expect(pdb(c).status).toMatchObject({ currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0 });
    expect(pdb(c).status.disruptedPods).toBeUndefined();

    const uncordon = structuredClone(c.store.get("Node", undefined, nodeName)!);
    uncordon.spec.unschedulable = false;
    c.store.update(uncordon);
    await c.until(() => allReady(c));
    expect(c.store.get("Pod", "registry", replacement.metadata.name)!.spec.nodeName).toBe(nodeName);
    expect(pdb(c).status.disruptionsAllowed).toBe(1);
  });

  it("refuses to evict a pod under two budgets", async () => {
    const c = startCluster();
    c.store.create(registry());
    c.store.create(budget({ maxUnavailable: 1 }));
    c.store.create({ ...budget({ minAvailable: 1 }), metadata: { name: "second", namespace: "registry" } });
    await c.until(() => allReady(c));
    expect(() => evictPod(evictionContext(c), "registry", pods(c)[0]!.metadata.name)).toThrow(
      /more than one PodDisruptionBudget/,
    );
  });
});

describe("node readiness", () => {
  it("marks pods of a NotReady node not ready, keeps new pods off it, and evicts after the 300 s toleration", async () => {
    const c = startCluster();
    c.store.create(registry());
    await c.until(() => allReady(c));
    const victim = pods(c)[0]!;
    setNodeReady(c, victim.spec.nodeName, false);
    await c.clock.advance(1_000);
    const node = c.store.get("Node", undefined, victim.spec.nodeName)!;
    expect(node.status.conditions.find((x: { type: string }) => x.type === "Ready")).toMatchObject({
      status: "False",
      reason: "KubeletNotReady",
    });
    expect(node.spec.taints.map((t: { key: string; effect: string }) => `${t.key}:${t.effect}`)).toEqual([
      "node.kubernetes.io/not-ready:NoSchedule",
      "node.kubernetes.io/not-ready:NoExecute",
    ]);
    expect(ready(c.store.get("Pod", "registry", victim.metadata.name)!)).toBe(false);
    expect(c.store.get("Deployment", "registry", "registry")!.status.readyReplicas).toBe(2);

    // DefaultTolerationSeconds: the pod tolerates not-ready:NoExecute for 300 s, then it is evicted; the
    // kubelet is down, so it stays Terminating, and its replacement has nowhere to go.
    await c.clock.advance(297_000);
    expect(c.store.get("Pod", "registry", victim.metadata.name)!.metadata.deletionTimestamp).toBeUndefined();
    await c.clock.advance(3_000);
    expect(c.store.get("Pod", "registry", victim.metadata.name)!.metadata.deletionTimestamp).toBeDefined();
    await c.clock.advance(60_000);
    expect(c.store.get("Pod", "registry", victim.metadata.name)).toBeDefined();
    const pending = pods(c).find((p) => !p.spec.nodeName)!;
    expect(
      pending.status.conditions.find((x: { type: string }) => x.type === "PodScheduled").message,
    ).toContain("1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }");

    setNodeReady(c, victim.spec.nodeName, true);
    await c.until(() => allReady(c) && pods(c).every((p) => !p.metadata.deletionTimestamp));
    expect(c.store.get("Pod", "registry", victim.metadata.name)).toBeUndefined();
  });
});

describe("node group upgrade", () => {
  it("replaces the node with one in the same zone at the new kubelet version, draining through the budget", async () => {
    const c = startCluster({ kubeletVersion: "1.32" });
    c.store.create(registry());
    c.store.create(budget({ maxUnavailable: 1 }));
    await c.until(() => allReady(c) && pdb(c).status?.disruptionsAllowed === 1);
    const before = c.store.list("Node", { labelSelector: "eks.amazonaws.com/nodegroup=ng-eu-west-1b" });
    expect(before).toHaveLength(1);
    expect(before[0]!.status.nodeInfo.kubeletVersion).toMatch(/^v1\.32\.\d+-eks-[0-9a-f]{7}$/);
    let lowestReady = 3;
    const upgrade = upgradeNodegroup(c, "ng-eu-west-1b", "1.33");
    let done = false;
    upgrade.then(() => {
      done = true;
    });
    await c.until(() => {
      lowestReady = Math.min(
        lowestReady,
        pods(c).filter((p) => ready(p) && !p.metadata.deletionTimestamp).length,
      );
      return done;
    }, 20 * 60_000);
    const result = await upgrade;
    expect(result.oldNode).toBe(before[0]!.metadata.name);
    expect(result.newNode).not.toBe(result.oldNode);
    expect(c.store.get("Node", undefined, result.oldNode)).toBeUndefined();
    const fresh = c.store.get("Node", undefined, result.newNode)!;
    expect(fresh.metadata.labels).toMatchObject({
      "topology.kubernetes.io/zone": "eu-west-1b",
      "eks.amazonaws.com/nodegroup": "ng-eu-west-1b",
    });
    expect(fresh.status.nodeInfo.kubeletVersion).toMatch(/^v1\.33\.\d+-eks-[0-9a-f]{7}$/);
    await c.until(() => allReady(c));
    expect(pods(c).some((p) => p.spec.nodeName === result.newNode)).toBe(true);
    expect(lowestReady).toBe(2);
    // DaemonSet pods follow the nodes.
    const daemons = c.store.list("Pod", { namespace: "kube-system", labelSelector: "k8s-app=aws-node" });
    expect(daemons.map((p) => p.spec.nodeName).sort()).toEqual(
      c.store
        .list("Node")
        .map((n) => n.metadata.name)
        .sort(),
    );
  });

  it("fails after the 15-minute eviction limit when the budget allows no disruption", async () => {
    const c = startCluster({ kubeletVersion: "1.32" });
    c.store.create(registry());
    c.store.create(budget({ minAvailable: 3 }));
    await c.until(() => allReady(c) && pdb(c).status?.currentHealthy === 3);
    const failure = upgradeNodegroup(c, "ng-eu-west-1a", "1.33").catch((error: unknown) => error);
    await c.clock.advance(20 * 60_000);
    const error = await failure;
    expect(error).toBeInstanceOf(OperationError);
    expect((error as OperationError).message).toMatch(
      /^PodEvictionFailure: Reached max retries while trying to evict pods/,
    );
    const old = c.store.list("Node", { labelSelector: "eks.amazonaws.com/nodegroup=ng-eu-west-1a" });
    expect(old).toHaveLength(2);
    expect(old.some((n) => n.spec.unschedulable)).toBe(true);
  });

  it("refuses a kubelet newer than the control plane", async () => {
    const c = startCluster();
    await expect(upgradeNodegroup(c, "ng-eu-west-1a", "1.34")).rejects.toThrow(/InvalidParameterException/);
    await expect(upgradeNodegroup(c, "ng-nowhere", "1.33")).rejects.toThrow(/no node group "ng-nowhere"/);
  });
});
