/**
 * Scale: a 1,000-replica Deployment on 100 nodes becomes ready, spread over every node and zone. Only
 * correctness is asserted here; how long it takes belongs to the benchmark.
 */
import { expect, it } from "vitest";
import { startSimulatedCluster } from "../support/simulated-cluster.js";

it("brings a 1,000-pod Deployment on 100 nodes to ready", async () => {
  const cluster = startSimulatedCluster({ seed: 1, nodes: 100, historyLimit: 20_000, namespace: "load" });
  const { clock, store, controllers } = cluster;
  try {
    store.create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "load" },
      spec: {
        replicas: 1000,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [
              {
                name: "web",
                image: "registry:2.8.2",
                resources: { requests: { cpu: "50m", memory: "64Mi" } },
                readinessProbe: {
                  httpGet: { path: "/", port: 5000 },
                  initialDelaySeconds: 5,
                  periodSeconds: 10,
                },
              },
            ],
          },
        },
      },
    });
    store.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "load" },
      spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 5000 }] },
    });
    for (let i = 0; i < 120; i++) {
      await clock.advance(1_000);
      if (store.get("Deployment", "load", "web")?.status?.availableReplicas === 1000) break;
    }
    const deployment = store.get("Deployment", "load", "web")!;
    expect(deployment.status).toMatchObject({
      replicas: 1000,
      updatedReplicas: 1000,
      readyReplicas: 1000,
      availableReplicas: 1000,
    });
    const pods = store.list("Pod", { namespace: "load" });
    expect(pods).toHaveLength(1000);
    const perNode = new Map<string, number>();
    for (const pod of pods) perNode.set(pod.spec.nodeName, (perNode.get(pod.spec.nodeName) ?? 0) + 1);
    expect(perNode.size).toBe(100);
    expect(Math.max(...perNode.values())).toBeLessThanOrEqual(11);
    const endpoints = store.get("Endpoints", "load", "web")!;
    expect(endpoints.subsets[0].addresses).toHaveLength(1000);
    expect(new Set(pods.map((p) => p.status.podIP)).size).toBe(1000);
    expect(controllers.errors).toEqual([]);
  } finally {
    cluster.stop();
  }
});
