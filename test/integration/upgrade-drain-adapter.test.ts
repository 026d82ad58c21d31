/**
 * The drain adapter against the sandbox's real Eviction API: kubectl's semantics — 429 retried, 404 a
 * success, a pod with another UID under the same name counts as gone, one deadline for the node — and
 * cordon/uncordon as strategic-merge patches.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { evictAndWait, newDrainStats, setUnschedulable } from "../../src/adapters/drain.js";
import { connectKube, type Kube } from "../../src/adapters/kube.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

let t: TestSandbox;
let kube: Kube;
let node: string;

beforeAll(async () => {
  t = await startTestSandbox({ controllers: true, speed: 300 });
  kube = await connectKube({ kubeconfigText: t.sandbox.kubeconfig() });
  node = t.sandbox.store.list("Node")[0]?.metadata.name as string;
});
afterAll(async () => {
  await t?.stop();
});

function barePod(name: string, graceSeconds = 1): Any {
  return t.sandbox.store.create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: graceSeconds,
      containers: [{ name: "app", image: "busybox:1.36" }],
    },
  });
}

const ref = (pod: Any) => ({ namespace: "default", name: pod.metadata.name, uid: pod.metadata.uid });
const options = (stats = newDrainStats()) => ({
  deadline: Date.now() + 10_000,
  timeoutText: "10s",
  retryIntervalMs: 50,
  stats,
});

describe("drain adapter", () => {
  it("cordons and uncordons with a strategic-merge patch (uncordon removes the field)", async () => {
    await setUnschedulable(kube, node, true);
    expect(t.sandbox.store.get("Node", undefined, node)?.spec.unschedulable).toBe(true);
    await setUnschedulable(kube, node, false);
    expect(t.sandbox.store.get("Node", undefined, node)?.spec.unschedulable).toBeUndefined();
  });

  it("retries an eviction refused with 429 and waits until the pod is gone", async () => {
    const pod = barePod("refused-twice");
    t.sandbox.faults.add({
      verbs: ["create"],
      path: "/pods/refused-twice/eviction$",
      action: {
        type: "error",
        status: 429,
        message: "Cannot evict pod as it would violate the pod's disruption budget.",
      },
      times: 3,
    });
    const stats = newDrainStats();
    const result = await evictAndWait(kube, node, [ref(pod)], options(stats));
    expect(result).toEqual({ evicted: 1, alreadyGone: 0 });
    // Three refusals, then the fourth attempt went through.
    expect(stats.refusals).toBe(3);
    expect(stats.evictions).toBe(4);
    expect(t.sandbox.store.get("Pod", "default", "refused-twice")).toBeUndefined();
  });

  it("takes 404 as success and a pod recreated under the same name (another UID) as gone", async () => {
    const gone = { namespace: "default", name: "never-existed", uid: "0000" };
    expect(await evictAndWait(kube, node, [gone], options())).toEqual({ evicted: 0, alreadyGone: 1 });

    const live = barePod("recreated");
    // The pod the drain evicted had another UID: the one running now is its successor.
    const evictedEarlier = { ...ref(live), uid: "uid-of-the-evicted-one", terminating: true };
    const stats = newDrainStats();
    await evictAndWait(kube, node, [evictedEarlier], options(stats));
    expect(stats.evictions).toBe(0);
    expect(t.sandbox.store.get("Pod", "default", "recreated")?.metadata.uid).toBe(live.metadata.uid);
  });

  it("fails at the node's deadline naming the pod and what refused it", async () => {
    const pod = barePod("always-refused");
    const rule = t.sandbox.faults.add({
      verbs: ["create"],
      path: "/pods/always-refused/eviction$",
      action: { type: "error", status: 429, message: "The disruption budget pinned needs 1 healthy pods" },
    });
    try {
      await expect(
        evictAndWait(kube, node, [ref(pod)], {
          ...options(),
          deadline: Date.now() + 400,
          timeoutText: "400ms",
        }),
      ).rejects.toThrow(
        /Draining .* did not finish within 400ms: 1 pod\(s\) still there \(default\/always-refused\).*pinned/,
      );
    } finally {
      t.sandbox.faults.clear(rule.id);
    }
  });

  it("survives 5xx answers and connection resets on evictions and cut watches while waiting", async () => {
    // A grace period long enough (simulated) that the wait has to watch the pods go.
    const pods = [barePod("flaky-a", 300), barePod("flaky-b", 300)];
    t.sandbox.faults.add({
      verbs: ["create"],
      path: "/eviction$",
      action: { type: "error", status: 503 },
      times: 2,
    });
    t.sandbox.faults.add({ verbs: ["create"], path: "/eviction$", action: { type: "reset" }, times: 1 });
    t.sandbox.faults.add({
      verbs: ["watch"],
      path: "/pods$",
      action: { type: "cutWatch", afterEvents: 1 },
      times: 2,
    });
    const result = await evictAndWait(kube, node, pods.map(ref), options());
    expect(result.evicted).toBe(2);
    expect(t.sandbox.faults.state().rules).toEqual([]);
    expect(
      t.sandbox.store
        .list("Pod", { namespace: "default" })
        .filter((p: Any) => p.metadata.name.startsWith("flaky")),
    ).toEqual([]);
  });
});
