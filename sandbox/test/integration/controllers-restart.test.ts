/**
 * The controllers keep no state that matters outside the store: a sandbox saved and started again
 * (the --sandbox commands) continues where it was. And the same controllers run on a scaled clock
 * driven by real timers.
 */
import { expect, it } from "vitest";
import { createClock } from "../../src/clock.js";
import { SandboxAnnotations, startControllers } from "../../src/controllers/index.js";
import { MemoryStore } from "../../src/store.js";
import { ONE_AT_A_TIME, registryDeployment } from "../support/registry-objects.js";
import { seedTestCluster, startSimulatedCluster } from "../support/simulated-cluster.js";

/** Replicas that go one at a time, each ready 15 s after it starts. */
const registry = () =>
  registryDeployment({
    strategy: ONE_AT_A_TIME,
    container: {
      readinessProbe: { httpGet: { path: "/", port: 5000 }, initialDelaySeconds: 15, periodSeconds: 5 },
    },
  });

const ready = (store: MemoryStore) => {
  const s = store.get("Deployment", "registry", "registry")?.status ?? {};
  return s.readyReplicas === 3 && s.availableReplicas === 3 && s.updatedReplicas === 3 && s.replicas === 3;
};

it("continues a saved cluster: running pods stay as they are, deletions and Jobs finish on time, rollouts proceed", async () => {
  const { clock, store: first, controllers: before } = startSimulatedCluster({ seed: 1 });
  first.create(registry());
  first.create({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "backup", namespace: "registry" },
    spec: {
      template: {
        metadata: { annotations: { [SandboxAnnotations.duration]: "120" } },
        spec: { restartPolicy: "Never", containers: [{ name: "backup", image: "amazon/aws-cli:2.17.0" }] },
      },
    },
  });
  for (let i = 0; i < 60 && !ready(first); i++) await clock.advance(1_000);
  expect(ready(first)).toBe(true);
  const leaving = first.list("Pod", { namespace: "kube-system", labelSelector: "k8s-app=kube-dns" })[0]!;
  first.delete("Pod", "kube-system", leaving.metadata.name); // 30 s grace from now
  await clock.advance(10_000);
  before.stop();
  expect(before.errors).toEqual([]);

  // As `--sandbox` does between commands: the objects are saved, loaded into a new store, and new
  // controllers start (with nothing in memory) some time later.
  const snapshot = structuredClone(first.snapshot());
  const second = new MemoryStore({ clock, bootstrap: false });
  second.restore(snapshot);
  const podsBefore = second.list("Pod", { namespace: "registry", labelSelector: "app=registry" });
  const after = startControllers({ store: second, clock, seed: 2 });
  try {
    await clock.advance(5_000);
    const podsAfter = second.list("Pod", { namespace: "registry", labelSelector: "app=registry" });
    expect(podsAfter.map((p) => p.metadata.uid)).toEqual(podsBefore.map((p) => p.metadata.uid));
    for (const pod of podsAfter) {
      const was = podsBefore.find((p) => p.metadata.uid === pod.metadata.uid)!;
      expect(pod.status.containerStatuses).toEqual(was.status.containerStatuses);
      expect(pod.status.conditions).toEqual(was.status.conditions);
    }
    expect(ready(second)).toBe(true);

    // The deleted CoreDNS pod goes when its grace period (counted from the delete) ends.
    await clock.advance(14_000);
    expect(second.get("Pod", "kube-system", leaving.metadata.name)).toBeDefined();
    await clock.advance(3_000);
    expect(second.get("Pod", "kube-system", leaving.metadata.name)).toBeUndefined();

    // The Job's pod started about 3 s after it was created and runs 120 s.
    await clock.advance(100_000);
    const job = second.get("Job", "registry", "backup")!;
    expect(job.status.conditions?.find((c: { type: string }) => c.type === "Complete")?.status).toBe("True");

    const next = structuredClone(second.get("Deployment", "registry", "registry")!);
    next.spec.template.spec.containers[0].image = "registry:2.8.3";
    second.update(next);
    for (let i = 0; i < 600; i++) {
      const pods = second.list("Pod", { namespace: "registry", labelSelector: "app=registry" });
      if (
        ready(second) &&
        pods.length === 3 &&
        pods.every((p) => p.spec.containers[0].image === "registry:2.8.3")
      )
        break;
      await clock.advance(1_000);
    }
    expect(
      second
        .list("Pod", { namespace: "registry", labelSelector: "app=registry" })
        .map((p) => p.spec.containers[0].image),
    ).toEqual(["registry:2.8.3", "registry:2.8.3", "registry:2.8.3"]);
    expect(after.errors).toEqual([]);
  } finally {
    after.stop();
    clock.stop();
  }
});

it("runs on a scaled clock with real timers", async () => {
  const clock = createClock({ speed: 2_000 });
  const store = new MemoryStore({ clock });
  seedTestCluster(store, clock);
  const controllers = startControllers({ store, clock });
  try {
    store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "registry" } });
    store.create(registry());
    // 15 s of readiness delay take a few real milliseconds; poll in real time, with a generous cap.
    const deadline = Date.now() + 20_000;
    while (!ready(store) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(ready(store)).toBe(true);
    expect(controllers.errors).toEqual([]);
  } finally {
    controllers.stop();
    clock.stop();
  }
});
