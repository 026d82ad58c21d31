/**
 * Deployments on the simulated cluster (store + controllers + manual clock, no HTTP): rolling updates
 * with the real surge/unavailable arithmetic against required anti-affinity on exactly three nodes,
 * Recreate, rollback, scaling, readiness delays and minReadySeconds.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/types.js";
import { condition, registryDeployment } from "../support/registry-objects.js";
import { type SimulatedCluster, simulatedClusterPerTest } from "../support/simulated-cluster.js";

const startCluster = simulatedClusterPerTest({ seed: 42 });

function registry(strategy?: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject {
  return registryDeployment({
    strategy,
    spec: extra,
    container: {
      ports: [{ containerPort: 5000 }],
      readinessProbe: { httpGet: { path: "/", port: 5000 }, periodSeconds: 5 },
    },
  });
}

function deployment(c: SimulatedCluster): KubeObject {
  return c.store.get("Deployment", "registry", "registry")!;
}

function setImage(c: SimulatedCluster, image: string): void {
  const next = structuredClone(deployment(c));
  next.spec.template.spec.containers[0].image = image;
  c.store.update(next);
}

function pods(c: SimulatedCluster): KubeObject[] {
  return c.store.list("Pod", { namespace: "registry" });
}

function replicaSets(c: SimulatedCluster): KubeObject[] {
  return c.store.list("ReplicaSet", { namespace: "registry" });
}

function rolledOut(c: SimulatedCluster): boolean {
  const d = deployment(c);
  const s = d.status ?? {};
  return (
    s.observedGeneration === d.metadata.generation &&
    s.updatedReplicas === 3 &&
    s.readyReplicas === 3 &&
    s.availableReplicas === 3 &&
    s.replicas === 3
  );
}

describe("rolling update on exactly three nodes with required anti-affinity", () => {
  it("with the default strategy (25%/25% -> surge 1, unavailable 0) gets stuck with the surge pod Pending, for good", async () => {
    const c = startCluster();
    c.store.create(registry());
    await c.until(() => rolledOut(c));
    expect(new Set(pods(c).map((p) => p.spec.nodeName)).size).toBe(3);

    setImage(c, "registry:2.8.3");
    await c.clock.advance(30_000);
    const fresh = replicaSets(c).find(
      (rs) => rs.spec.template.spec.containers[0].image === "registry:2.8.3",
    )!;
    expect(fresh.spec.replicas).toBe(1);
    expect(fresh.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("2");
    const surge = pods(c).find(
      (p) => p.metadata.labels?.["pod-template-hash"] === fresh.metadata.labels?.["pod-template-hash"],
    )!;
    expect(surge.spec.nodeName).toBeUndefined();
    expect(surge.status.phase).toBe("Pending");
    const message =
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";
    expect(condition(surge, "PodScheduled")).toMatchObject({
      status: "False",
      reason: "Unschedulable",
      message,
    });
    const events = c.store
      .list("Event", { namespace: "registry" })
      .filter((e) => e.involvedObject.name === surge.metadata.name);
    expect(events).toContainEqual(
      expect.objectContaining({ reason: "FailedScheduling", type: "Warning", message }),
    );

    await c.clock.advance(20 * 60_000);
    const d = deployment(c);
    expect(d.status).toMatchObject({
      replicas: 4,
      updatedReplicas: 1,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 1,
    });
    expect(condition(d, "Progressing")).toMatchObject({
      status: "False",
      reason: "ProgressDeadlineExceeded",
    });
    expect(condition(d, "Available")).toMatchObject({ status: "True" });
    const old = replicaSets(c).find((rs) => rs !== fresh && rs.metadata.name !== fresh.metadata.name)!;
    expect(old.spec.replicas).toBe(3);
    expect(c.store.get("Pod", "registry", surge.metadata.name)?.spec.nodeName).toBeUndefined();
  });

  it("with maxSurge 0 / maxUnavailable 1 completes, one pod at a time, never below two available", async () => {
    const c = startCluster();
    c.store.create(registry({ type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }));
    await c.until(() => rolledOut(c));
    const firstRs = replicaSets(c)[0]!.metadata.name;

    setImage(c, "registry:2.8.3");
    let lowest = 3;
    await c.until(() => {
      lowest = Math.min(lowest, deployment(c).status?.availableReplicas ?? 0);
      return rolledOut(c) && pods(c).length === 3;
    }, 600_000);
    expect(lowest).toBe(2);
    const current = pods(c);
    expect(current.every((p) => p.spec.containers[0].image === "registry:2.8.3")).toBe(true);
    expect(new Set(current.map((p) => p.spec.nodeName)).size).toBe(3);
    const d = deployment(c);
    expect(d.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("2");
    expect(condition(d, "Progressing")).toMatchObject({ status: "True", reason: "NewReplicaSetAvailable" });
    expect(c.store.get("ReplicaSet", "registry", firstRs)?.spec.replicas).toBe(0);
    const scaling = c.store
      .list("Event", { namespace: "registry" })
      .filter((e) => e.reason === "ScalingReplicaSet")
      .map((e) => e.message);
    expect(scaling).toContain(`Scaled down replica set ${firstRs} from 3 to 2`);

    // Rollback: the old template again reuses the first ReplicaSet, under a new revision.
    setImage(c, "registry:2.8.2");
    await c.until(
      () =>
        rolledOut(c) &&
        pods(c).every((p) => p.spec.containers[0].image === "registry:2.8.2") &&
        pods(c).length === 3,
      600_000,
    );
    const reused = c.store.get("ReplicaSet", "registry", firstRs)!;
    expect(reused.spec.replicas).toBe(3);
    expect(reused.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    expect(reused.metadata.annotations?.["deployment.kubernetes.io/revision-history"]).toBe("1");
    expect(deployment(c).metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    expect(replicaSets(c)).toHaveLength(2);
  });
});

describe("status fields by version", () => {
  // A real kube-controller-manager v1.35.4 writes terminatingReplicas (0 included) on both; 1.33 has none.
  it("from 1.35 ReplicaSets and Deployments count their terminating pods, 0 included", async () => {
    const c = startCluster({ kubernetesVersion: "1.35" });
    c.store.create(registry({ type: "Recreate" }));
    await c.until(() => rolledOut(c));
    expect(deployment(c).status.terminatingReplicas).toBe(0);
    expect(replicaSets(c).map((rs) => rs.status.terminatingReplicas)).toEqual([0]);
    setImage(c, "registry:2.8.3");
    let seen = 0;
    await c.until(() => {
      seen = Math.max(seen, deployment(c).status.terminatingReplicas ?? 0);
      return rolledOut(c) && pods(c).every((p) => p.spec.containers[0].image === "registry:2.8.3");
    }, 600_000);
    expect(seen).toBeGreaterThan(0);
    expect(deployment(c).status.terminatingReplicas).toBe(0);
  });

  it("before 1.35 neither has the field", async () => {
    const c = startCluster();
    c.store.create(registry());
    await c.until(() => rolledOut(c));
    expect(deployment(c).status.terminatingReplicas).toBeUndefined();
    expect(replicaSets(c)[0]?.status.terminatingReplicas).toBeUndefined();
  });
});

describe("other strategies and settings", () => {
  it("Recreate stops every old pod before the first new one exists", async () => {
    const c = startCluster();
    c.store.create(registry({ type: "Recreate" }));
    await c.until(() => rolledOut(c));
    setImage(c, "registry:2.8.3");
    let overlap = false;
    await c.until(() => {
      const images = new Set(pods(c).map((p) => p.spec.containers[0].image));
      if (images.size > 1) overlap = true;
      return rolledOut(c) && pods(c).length === 3 && images.has("registry:2.8.3") && images.size === 1;
    }, 600_000);
    expect(overlap).toBe(false);
  });

  it("scales up into Pending pods and scales down the unscheduled ones first", async () => {
    const c = startCluster();
    c.store.create(registry());
    await c.until(() => rolledOut(c));
    const running = pods(c).map((p) => p.metadata.name);
    const up = structuredClone(deployment(c));
    up.spec.replicas = 5;
    c.store.update(up);
    await c.clock.advance(10_000);
    expect(pods(c)).toHaveLength(5);
    expect(pods(c).filter((p) => !p.spec.nodeName)).toHaveLength(2);
    const down = structuredClone(deployment(c));
    down.spec.replicas = 3;
    c.store.update(down);
    await c.clock.advance(1_000);
    expect(
      pods(c)
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual([...running].sort());
    expect(deployment(c).status).toMatchObject({ replicas: 3, availableReplicas: 3 });
  });

  it("scales a Deployment stuck mid-rollout proportionally between its old and new ReplicaSets", async () => {
    const c = startCluster();
    const spec = registry();
    spec.spec.replicas = 4;
    delete spec.spec.template.spec.affinity;
    c.store.create(spec);
    await c.until(() => deployment(c).status?.availableReplicas === 4);
    // An image that cannot be pulled: new pods never get ready, so the rollout stops at its limits
    // (maxSurge 25% of 4 = 1, maxUnavailable 25% of 4 = 1): 3 old + 2 new.
    setImage(c, "registry.example.com/nonexistent:1");
    await c.clock.advance(60_000);
    const sizes = () => {
      const fresh = replicaSets(c).find((rs) =>
        rs.spec.template.spec.containers[0].image.includes("nonexistent"),
      )!;
      const old = replicaSets(c).find((rs) => rs.metadata.uid !== fresh.metadata.uid)!;
      return { old: old.spec.replicas, new: fresh.spec.replicas };
    };
    expect(sizes()).toEqual({ old: 3, new: 2 });
    const bigger = structuredClone(deployment(c));
    bigger.spec.replicas = 8;
    c.store.update(bigger);
    await c.clock.advance(1_000);
    // maxSurge of 8 is 2: 10 allowed, 5 to add, shared 3 : 2 as the ReplicaSets' sizes are.
    expect(sizes()).toEqual({ old: 6, new: 4 });
    expect(deployment(c).status.availableReplicas).toBe(6);
  });

  it("makes a pod ready only after its readiness probe's initialDelaySeconds", async () => {
    const c = startCluster();
    c.store.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "slow", namespace: "registry" },
      spec: {
        containers: [
          {
            name: "app",
            image: "registry:2.8.2",
            readinessProbe: { tcpSocket: { port: 5000 }, initialDelaySeconds: 15, periodSeconds: 10 },
          },
        ],
      },
    });
    const pod = () => c.store.get("Pod", "registry", "slow")!;
    await c.until(() => pod().status?.containerStatuses?.[0]?.state?.running !== undefined, 60_000, 100);
    const started = Date.parse(pod().status.containerStatuses[0].state.running.startedAt);
    await c.clock.advance(started + 14_000 - c.clock.now());
    expect(condition(pod(), "Ready")?.status).toBe("False");
    expect(pod().status.containerStatuses[0]).toMatchObject({ ready: false, started: true });
    await c.clock.advance(started + 15_000 - c.clock.now());
    expect(condition(pod(), "Ready")).toMatchObject({
      status: "True",
      lastTransitionTime: new Date(started + 15_000).toISOString().replace(".000", ""),
    });
    expect(pod().status.containerStatuses[0].ready).toBe(true);
  });

  it("counts a replica available only minReadySeconds after it is ready", async () => {
    const c = startCluster();
    c.store.create(registry(undefined, { minReadySeconds: 30 }));
    await c.until(() => deployment(c).status?.readyReplicas === 3, 120_000);
    expect(deployment(c).status.availableReplicas ?? 0).toBe(0);
    expect(condition(deployment(c), "Available")).toMatchObject({
      status: "False",
      reason: "MinimumReplicasUnavailable",
    });
    const waited = await c.until(() => deployment(c).status?.availableReplicas === 3, 60_000);
    expect(waited).toBeGreaterThanOrEqual(29_000);
    expect(condition(deployment(c), "Available")).toMatchObject({
      status: "True",
      reason: "MinimumReplicasAvailable",
    });
  });
});
