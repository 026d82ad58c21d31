/**
 * The simulated kubelets and service plumbing: init containers, image pull failures, probe failures
 * and liveness restarts, graceful deletion, the events a user reads, Endpoints/EndpointSlices and
 * LoadBalancer hostnames, and DaemonSets on cordoned nodes.
 */
import { describe, expect, it } from "vitest";
import { injectProbeFailure } from "../../src/controllers/index.js";
import type { KubeObject } from "../../src/types.js";
import { condition } from "../support/registry-objects.js";
import { type SimulatedCluster, simulatedClusterPerTest } from "../support/simulated-cluster.js";

const startCluster = simulatedClusterPerTest({ seed: 5 });

function pod(
  name: string,
  spec: Record<string, unknown>,
  labels: Record<string, string> = { app: "registry" },
): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "registry", labels }, spec };
}

const registryContainer = {
  name: "registry",
  image: "registry:2.8.2",
  ports: [{ name: "http", containerPort: 5000 }],
  readinessProbe: { httpGet: { path: "/", port: 5000 }, periodSeconds: 5, failureThreshold: 2 },
  livenessProbe: { httpGet: { path: "/", port: 5000 }, periodSeconds: 10, failureThreshold: 3 },
};

const get = (c: SimulatedCluster, name: string) => c.store.get("Pod", "registry", name);
const eventsOf = (c: SimulatedCluster, name: string) =>
  c.store.list("Event", { namespace: "registry" }).filter((e) => e.involvedObject.name === name);

describe("pod lifecycle", () => {
  it("runs init containers one after another before the containers, and records what a user reads", async () => {
    const c = startCluster();
    c.store.create(
      pod("with-init", {
        initContainers: [
          { name: "fix-permissions", image: "busybox:1.36" },
          { name: "migrate", image: "busybox:1.36" },
        ],
        containers: [{ name: "registry", image: "registry:2.8.2" }],
      }),
    );
    await c.until(
      () => get(c, "with-init")?.status?.initContainerStatuses?.[0]?.state?.running !== undefined,
      30_000,
      100,
    );
    let current = get(c, "with-init")!;
    expect(current.status.phase).toBe("Pending");
    expect(condition(current, "Initialized")).toMatchObject({
      status: "False",
      reason: "ContainersNotInitialized",
      message: "containers with incomplete status: [fix-permissions migrate]",
    });
    expect(current.status.containerStatuses[0].state).toEqual({ waiting: { reason: "PodInitializing" } });
    await c.until(() => get(c, "with-init")?.status?.phase === "Running", 30_000, 100);
    current = get(c, "with-init")!;
    const [first, second] = current.status.initContainerStatuses;
    expect(first.state.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(Date.parse(second.state.terminated.startedAt)).toBeGreaterThanOrEqual(
      Date.parse(first.state.terminated.finishedAt),
    );
    expect(condition(current, "Ready")?.status).toBe("True");
    expect(current.status.podIP).toMatch(/^10\.0\.\d+\.\d+$/);
    const reasons = eventsOf(c, "with-init").map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["Scheduled", "Pulling", "Pulled", "Created", "Started"]));
    const scheduled = eventsOf(c, "with-init").find((e) => e.reason === "Scheduled")!;
    expect(scheduled.message).toBe(`Successfully assigned registry/with-init to ${current.spec.nodeName}`);
    expect(scheduled.source).toEqual({ component: "default-scheduler" });
  });

  it("backs off pulling an image that does not exist", async () => {
    const c = startCluster();
    c.store.create(
      pod("bad-image", { containers: [{ name: "registry", image: "registry.example.com/nonexistent:9" }] }),
    );
    await c.clock.advance(5_000);
    const current = get(c, "bad-image")!;
    expect(current.status.phase).toBe("Pending");
    expect(current.status.containerStatuses[0].state.waiting.reason).toBe("ImagePullBackOff");
    const messages = eventsOf(c, "bad-image").map((e) => `${e.reason}: ${e.message}`);
    expect(messages).toContain("Failed: Error: ErrImagePull");
    expect(messages).toContain('BackOff: Back-off pulling image "registry.example.com/nonexistent:9"');
  });

  it("restarts a container whose liveness probe fails, with back-off, and keeps it running once it passes", async () => {
    const c = startCluster();
    c.store.create(pod("live", { containers: [registryContainer] }));
    await c.until(() => condition(get(c, "live"), "Ready")?.status === "True", 60_000);
    injectProbeFailure(c, "registry", "live", "registry", "liveness", true);
    await c.until(() => get(c, "live")!.status.containerStatuses[0].restartCount === 1, 60_000);
    const restarted = get(c, "live")!.status.containerStatuses[0];
    expect(restarted.lastState.terminated).toMatchObject({ exitCode: 137, reason: "Error" });
    expect(eventsOf(c, "live").map((e) => e.message)).toContain(
      "Container registry failed liveness probe, will be restarted",
    );
    const unhealthy = eventsOf(c, "live").find(
      (e) => e.reason === "Unhealthy" && e.message.startsWith("Liveness probe failed: HTTP probe failed"),
    );
    // One event per distinct message, counted (the kubelet probes every period).
    expect(unhealthy?.count).toBeGreaterThanOrEqual(3);
    let sawBackOff = false;
    await c.until(() => {
      sawBackOff ||= get(c, "live")!.status.containerStatuses[0].state.waiting?.reason === "CrashLoopBackOff";
      return get(c, "live")!.status.containerStatuses[0].restartCount >= 3;
    }, 10 * 60_000);
    expect(sawBackOff).toBe(true);
    injectProbeFailure(c, "registry", "live", "registry", "liveness", false);
    await c.until(() => condition(get(c, "live"), "Ready")?.status === "True", 10 * 60_000);
    const settled = get(c, "live")!.status.containerStatuses[0].restartCount;
    await c.clock.advance(10 * 60_000);
    expect(get(c, "live")!.status.containerStatuses[0].restartCount).toBe(settled);
    expect(condition(get(c, "live"), "Ready")?.status).toBe("True");
  });

  it("removes a deleted pod after its grace period", async () => {
    const c = startCluster();
    c.store.create(pod("leaving", { terminationGracePeriodSeconds: 30, containers: [registryContainer] }));
    await c.until(() => condition(get(c, "leaving"), "Ready")?.status === "True", 60_000);
    c.store.delete("Pod", "registry", "leaving");
    await c.clock.advance(29_000);
    expect(get(c, "leaving")?.metadata.deletionTimestamp).toBeDefined();
    expect(eventsOf(c, "leaving").map((e) => e.message)).toContain("Stopping container registry");
    await c.clock.advance(2_000);
    expect(get(c, "leaving")).toBeUndefined();
  });
});

describe("services", () => {
  it("lists ready pods in Endpoints and the EndpointSlice, not-ready ones apart, with named target ports", async () => {
    const c = startCluster();
    c.store.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "registry", namespace: "registry" },
      spec: { selector: { app: "registry" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
    });
    for (const name of ["a", "b"]) c.store.create(pod(name, { containers: [registryContainer] }));
    c.store.create(pod("other", { containers: [registryContainer] }, { app: "other" }));
    await c.until(() => ["a", "b"].every((n) => condition(get(c, n), "Ready")?.status === "True"), 60_000);
    await c.clock.advance(1_000);
    const endpoints = () => c.store.get("Endpoints", "registry", "registry")!;
    expect(endpoints().subsets).toHaveLength(1);
    expect(endpoints().subsets[0].ports).toEqual([{ name: "http", port: 5000, protocol: "TCP" }]);
    expect(
      endpoints()
        .subsets[0].addresses.map((a: { targetRef: { name: string } }) => a.targetRef.name)
        .sort(),
    ).toEqual(["a", "b"]);

    injectProbeFailure(c, "registry", "b", "registry", "readiness", true);
    await c.until(() => endpoints().subsets[0].notReadyAddresses !== undefined, 60_000);
    expect(
      endpoints().subsets[0].addresses.map((a: { targetRef: { name: string } }) => a.targetRef.name),
    ).toEqual(["a"]);
    const [slice] = c.store.list("EndpointSlice", {
      namespace: "registry",
      labelSelector: "kubernetes.io/service-name=registry",
    });
    expect(
      slice!.endpoints
        .map(
          (e: { targetRef: { name: string }; conditions: { ready: boolean } }) =>
            `${e.targetRef.name}:${e.conditions.ready}`,
        )
        .sort(),
    ).toEqual(["a:true", "b:false"]);
    expect(slice!.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Service", name: "registry" });
  });

  it("gives a LoadBalancer service an ELB hostname after a short while", async () => {
    const c = startCluster();
    c.store.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "registry-public", namespace: "registry" },
      spec: { type: "LoadBalancer", selector: { app: "registry" }, ports: [{ port: 443, targetPort: 5000 }] },
    });
    await c.clock.advance(5_000);
    const service = () => c.store.get("Service", "registry", "registry-public")!;
    expect(service().status?.loadBalancer?.ingress).toBeUndefined();
    await c.clock.advance(30_000);
    expect(service().status.loadBalancer.ingress[0].hostname).toMatch(
      /^a[0-9a-f]{32}-\d{10}\.eu-west-1\.elb\.amazonaws\.com$/,
    );
    expect(eventsOf(c, "registry-public").map((e) => e.reason)).toEqual(
      expect.arrayContaining(["EnsuringLoadBalancer", "EnsuredLoadBalancer"]),
    );
  });
});

describe("namespaces", () => {
  it("deleting a namespace with a running Deployment and Service leaves nothing behind", async () => {
    const c = startCluster();
    c.store.create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "registry", namespace: "registry" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "registry" } },
        template: { metadata: { labels: { app: "registry" } }, spec: { containers: [registryContainer] } },
      },
    });
    c.store.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "registry", namespace: "registry" },
      spec: { selector: { app: "registry" }, ports: [{ port: 80, targetPort: 5000 }] },
    });
    await c.until(
      () => c.store.get("Deployment", "registry", "registry")?.status?.readyReplicas === 2,
      60_000,
    );
    c.store.delete("Namespace", undefined, "registry");
    await c.until(() => c.store.get("Namespace", undefined, "registry") === undefined, 120_000);
    for (const kind of ["Pod", "ReplicaSet", "Deployment", "Endpoints", "EndpointSlice", "Event"]) {
      expect(c.store.list(kind, { namespace: "registry" })).toEqual([]);
    }
  });
});

describe("DaemonSets", () => {
  it("keep their pods on cordoned nodes, so a drain meets them", async () => {
    const c = startCluster();
    await c.clock.advance(30_000);
    const node = structuredClone(c.store.list("Node")[0]!);
    node.spec.unschedulable = true;
    c.store.update(node);
    await c.clock.advance(30_000);
    for (const name of ["aws-node", "kube-proxy"]) {
      const ds = c.store.get("DaemonSet", "kube-system", name)!;
      expect(ds.status).toMatchObject({
        desiredNumberScheduled: 3,
        currentNumberScheduled: 3,
        numberReady: 3,
      });
    }
    const onCordoned = c.store.list("Pod", { fieldSelector: `spec.nodeName=${node.metadata.name}` });
    expect(onCordoned.map((p) => p.metadata.ownerReferences?.[0]?.kind)).toEqual(
      expect.arrayContaining(["DaemonSet"]),
    );
  });
});
