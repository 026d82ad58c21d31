import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/store.js";
import { ApiError, type KubeObject, type WatchEvent } from "../../src/types.js";

function fakeClock(start = Date.parse("2025-01-01T00:00:00Z")) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function deployment(name: string, replicas = 3): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default", labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image: "nginx:1.27" }] },
      },
    },
  };
}

function pod(name: string, extra: Partial<KubeObject["metadata"]> = {}, nodeName?: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: "web" }, ...extra },
    spec: { containers: [{ name: "app", image: "nginx:1.27" }], ...(nodeName ? { nodeName } : {}) },
  };
}

function caught(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

describe("MemoryStore basics", () => {
  it("assigns uid, creationTimestamp from the clock, generation and one global resourceVersion", () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    const first = store.create(deployment("a"));
    const second = store.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c" },
      data: { k: "v" },
    });
    expect(first.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.metadata.creationTimestamp).toBe("2025-01-01T00:00:00Z");
    expect(first.metadata.generation).toBe(1);
    expect(Number(second.metadata.resourceVersion)).toBe(Number(first.metadata.resourceVersion) + 1);
    expect(store.resourceVersion).toBe(second.metadata.resourceVersion);
    expect(Object.isFrozen(first.spec)).toBe(true);
  });

  it("starts with the namespaces a fresh cluster has, each with a default ServiceAccount", () => {
    const store = new MemoryStore();
    expect(store.list("Namespace").map((n) => n.metadata.name)).toEqual([
      "default",
      "kube-node-lease",
      "kube-public",
      "kube-system",
    ]);
    expect(store.get("ServiceAccount", "kube-system", "default")).toBeDefined();
    expect(store.get("Service", "default", "kubernetes")?.spec.clusterIP).toBe("10.100.0.1");
  });

  it("returns 404 and 409 with the real message shapes", () => {
    const store = new MemoryStore();
    store.create(deployment("web"));
    const exists = caught(() => store.create(deployment("web")));
    expect(exists.code).toBe(409);
    expect(exists.reason).toBe("AlreadyExists");
    expect(exists.message).toBe('deployments.apps "web" already exists');
    const missing = caught(() => store.delete("Deployment", "default", "nope"));
    expect(missing.code).toBe(404);
    expect(missing.message).toBe('deployments.apps "nope" not found');
    expect(missing.details).toMatchObject({ name: "nope", group: "apps", kind: "deployments" });
    expect(caught(() => store.getOrThrow("Pod", "default", "x")).message).toBe('pods "x" not found');
  });

  it("rejects objects in a namespace that does not exist", () => {
    const store = new MemoryStore();
    const error = caught(() =>
      store.create({ ...deployment("web"), metadata: { name: "web", namespace: "nope" } }),
    );
    expect(error.code).toBe(404);
    expect(error.message).toBe('namespaces "nope" not found');
  });

  it("generates names from generateName", () => {
    const store = new MemoryStore();
    const created = store.create({
      ...pod(""),
      metadata: { name: "", generateName: "web-", namespace: "default" },
    });
    expect(created.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
});

describe("updates", () => {
  it("409 Conflict on a stale resourceVersion", () => {
    const store = new MemoryStore();
    const created = store.create(deployment("web"));
    const copy = structuredClone(created);
    copy.spec.replicas = 5;
    store.update(copy);
    const stale = structuredClone(created);
    stale.spec.replicas = 7;
    const error = caught(() => store.update(stale));
    expect(error.code).toBe(409);
    expect(error.reason).toBe("Conflict");
    expect(error.message).toBe(
      'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it("bumps generation on spec changes only, keeps status, and skips no-op writes", () => {
    const store = new MemoryStore();
    const created = store.create(deployment("web"));
    const withStatus = store.updateStatus({ ...structuredClone(created), status: { replicas: 3 } });
    expect(withStatus.metadata.generation).toBe(1);
    const labelled = structuredClone(withStatus);
    labelled.metadata.labels = { app: "web", extra: "yes" };
    labelled.status = { replicas: 99 };
    const afterLabel = store.update(labelled);
    expect(afterLabel.metadata.generation).toBe(1);
    expect(afterLabel.status).toEqual({ replicas: 3 });
    const scaled = structuredClone(afterLabel);
    scaled.spec.replicas = 4;
    expect(store.update(scaled).metadata.generation).toBe(2);
    const current = store.get("Deployment", "default", "web")!;
    expect(store.update(structuredClone(current))).toBe(current);
  });

  it("rejects changes to immutable fields with 422 and causes", () => {
    const store = new MemoryStore();
    const created = store.create(deployment("web"));
    const changed = structuredClone(created);
    changed.spec.selector = { matchLabels: { app: "other" } };
    changed.spec.template.metadata.labels = { app: "other" };
    const error = caught(() => store.update(changed));
    expect(error.code).toBe(422);
    expect(error.reason).toBe("Invalid");
    expect(error.message).toBe(
      'Deployment.apps "web" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"other"}}: field is immutable',
    );
    expect(error.details?.causes).toEqual([
      {
        reason: "FieldValueInvalid",
        message: expect.stringContaining("field is immutable"),
        field: "spec.selector",
      },
    ]);
  });

  it("lets the scheduler bind a pod once but not change its spec otherwise", () => {
    const store = new MemoryStore();
    const created = store.create(pod("p"));
    const bound = store.update({
      ...structuredClone(created),
      spec: { ...structuredClone(created.spec), nodeName: "node-a" },
    });
    expect(bound.spec.nodeName).toBe("node-a");
    const moved = structuredClone(bound);
    moved.spec.nodeName = "node-b";
    expect(caught(() => store.update(moved)).message).toContain("pod updates may not change fields");
  });
});

describe("admission", () => {
  it("requires a selector matching the template labels", () => {
    const store = new MemoryStore();
    const bad = deployment("web");
    bad.spec.template.metadata.labels = { app: "other" };
    const error = caught(() => store.create(bad));
    expect(error.message).toBe(
      'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`',
    );
  });

  it("lists every problem, bracketed, when there are several", () => {
    const store = new MemoryStore();
    const error = caught(() =>
      store.create({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "Bad_Name", namespace: "default" },
        spec: {},
      }),
    );
    expect(error.message).toMatch(
      /^Pod "Bad_Name" is invalid: \[metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    expect(error.message).toContain("spec.containers: Required value]");
    expect(error.details?.causes).toHaveLength(2);
  });

  it("checks restart policies, PVC fields and CronJob names", () => {
    const store = new MemoryStore();
    const job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j", namespace: "default" },
      spec: { template: { spec: { containers: [{ name: "c", image: "busybox:1.36" }] } } },
    };
    expect(caught(() => store.create(job)).message).toBe(
      'Job.batch "j" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    );
    const pvc = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "default" },
      spec: {},
    };
    expect(caught(() => store.create(pvc)).message).toBe(
      'PersistentVolumeClaim "data" is invalid: [spec.accessModes: Required value: at least 1 access mode is required, spec.resources[storage]: Required value]',
    );
    const cron = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "x".repeat(53), namespace: "default" },
      spec: {
        schedule: "0 3 * * *",
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "a:1" }] } } },
        },
      },
    };
    expect(caught(() => store.create(cron)).message).toContain("must be no more than 52 characters");
  });

  it("fills defaults like a real server (Deployment strategy, Service clusterIP, Job selector)", () => {
    const store = new MemoryStore();
    const created = store.create(deployment("web"));
    expect(created.spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" },
    });
    expect(created.spec.template.spec.containers[0].imagePullPolicy).toBe("IfNotPresent");
    const service = store.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    expect(service.spec.clusterIP).toMatch(/^10\.100\.\d+\.\d+$/);
    expect(service.spec.ports[0]).toEqual({ port: 80, protocol: "TCP", targetPort: 80 });
    const job = store.create({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j", namespace: "default" },
      spec: {
        template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox:1.36" }] } },
      },
    });
    expect(job.spec.selector.matchLabels["batch.kubernetes.io/controller-uid"]).toBe(job.metadata.uid);
    expect(job.spec.template.metadata.labels["job-name"]).toBe("j");
  });

  // Each of these was a difference from a real kube-apiserver (v1.35.4) reading back clouddrove's objects.
  it("fills the pod template defaults a real server does: file modes, fieldRef apiVersion, serviceAccount", () => {
    const store = new MemoryStore();
    const object = deployment("web");
    Object.assign(object.spec.template.spec, {
      serviceAccountName: "web",
      volumes: [
        { name: "config", configMap: { name: "web" } },
        { name: "tls", secret: { secretName: "web", defaultMode: 0o400 } },
        {
          name: "info",
          downwardAPI: { items: [{ path: "name", fieldRef: { fieldPath: "metadata.name" } }] },
        },
      ],
    });
    object.spec.template.spec.containers[0].env = [
      { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ];
    const spec = store.create(object).spec.template.spec;
    expect(spec.serviceAccount).toBe("web");
    expect(spec.volumes[0].configMap.defaultMode).toBe(420);
    expect(spec.volumes[1].secret.defaultMode).toBe(0o400);
    expect(spec.volumes[2].downwardAPI).toEqual({
      defaultMode: 420,
      items: [{ path: "name", fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } }],
    });
    expect(spec.containers[0].env[0].valueFrom.fieldRef).toEqual({
      apiVersion: "v1",
      fieldPath: "metadata.name",
    });
  });

  it("allocates a health check node port to a LoadBalancer Service with externalTrafficPolicy Local, and keeps it", () => {
    const store = new MemoryStore();
    const service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "lb", namespace: "default" },
      spec: {
        type: "LoadBalancer",
        externalTrafficPolicy: "Local",
        selector: { app: "web" },
        ports: [{ port: 80 }],
      },
    };
    const created = store.create(service);
    expect(created.spec.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    expect(created.spec.healthCheckNodePort).not.toBe(created.spec.ports[0].nodePort);
    const updated = store.update({ ...service, metadata: { ...service.metadata } });
    expect(updated.spec.healthCheckNodePort).toBe(created.spec.healthCheckNodePort);
    const cluster = store.create({
      ...service,
      metadata: { name: "cluster", namespace: "default" },
      spec: { ...service.spec, externalTrafficPolicy: "Cluster" },
    });
    expect(cluster.spec.healthCheckNodePort).toBeUndefined();
  });

  it("a PersistentVolume drops an empty storageClassName (a claim keeps it) and stamps its phase changes", () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    const pv = store.create({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv" },
      spec: {
        storageClassName: "",
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteMany"],
        nfs: { server: "nfs.example", path: "/" },
      },
    });
    expect("storageClassName" in pv.spec).toBe(false);
    expect(pv.status).toEqual({ phase: "Pending", lastPhaseTransitionTime: "2025-01-01T00:00:00Z" });
    clock.advance(5_000);
    const bound = store.updateStatus({ ...pv, status: { ...pv.status, phase: "Bound" } });
    expect(bound.status.lastPhaseTransitionTime).toBe("2025-01-01T00:00:05Z");
    const claim = store.create({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "c", namespace: "default" },
      spec: {
        storageClassName: "",
        accessModes: ["ReadWriteMany"],
        resources: { requests: { storage: "1Gi" } },
      },
    });
    expect(claim.spec.storageClassName).toBe("");
  });
});

describe("deletion", () => {
  function owned(store: MemoryStore) {
    const owner = store.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "owner", namespace: "default" },
    });
    const ref = {
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "owner",
      uid: owner.metadata.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };
    store.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "child", namespace: "default", ownerReferences: [ref] },
    });
    store.create(pod("child-pod", { ownerReferences: [ref] }));
    return owner;
  }

  it("cascades in the background by default", () => {
    const store = new MemoryStore();
    owned(store);
    store.delete("ConfigMap", "default", "owner");
    expect(store.get("ConfigMap", "default", "child")).toBeUndefined();
    expect(store.get("Pod", "default", "child-pod")).toBeUndefined();
  });

  it("orphans dependents when asked, removing the ownerReference", () => {
    const store = new MemoryStore();
    owned(store);
    store.delete("ConfigMap", "default", "owner", { propagationPolicy: "Orphan" });
    expect(store.get("ConfigMap", "default", "child")?.metadata.ownerReferences).toBeUndefined();
  });

  it("keeps a foreground-deleted owner until its dependents are gone", () => {
    const store = new MemoryStore();
    const owner = owned(store);
    const ref = {
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "owner",
      uid: owner.metadata.uid!,
      blockOwnerDeletion: true,
    };
    store.create(pod("running", { ownerReferences: [ref] }, "node-a"));
    const marked = store.delete("ConfigMap", "default", "owner", { propagationPolicy: "Foreground" });
    expect(marked?.metadata.finalizers).toEqual(["foregroundDeletion"]);
    expect(store.get("ConfigMap", "default", "owner")?.metadata.deletionTimestamp).toBeDefined();
    expect(store.get("Pod", "default", "running")?.metadata.deletionTimestamp).toBeDefined();
    store.delete("Pod", "default", "running", { gracePeriodSeconds: 0 });
    expect(store.get("ConfigMap", "default", "owner")).toBeUndefined();
  });

  it("deletes bound pods gracefully and unbound pods at once", () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    store.create(pod("pending"));
    store.create(pod("bound", {}, "node-a"));
    store.delete("Pod", "default", "pending");
    expect(store.get("Pod", "default", "pending")).toBeUndefined();
    const marked = store.delete("Pod", "default", "bound", { gracePeriodSeconds: 10 });
    expect(marked?.metadata.deletionGracePeriodSeconds).toBe(10);
    expect(marked?.metadata.deletionTimestamp).toBe("2025-01-01T00:00:10Z");
    expect(store.get("Pod", "default", "bound")).toBeDefined();
    store.delete("Pod", "default", "bound", { gracePeriodSeconds: 0 });
    expect(store.get("Pod", "default", "bound")).toBeUndefined();
  });

  it("honours finalizers: the object goes when the last one is removed", () => {
    const store = new MemoryStore();
    store.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "f", namespace: "default", finalizers: ["example.com/x"] },
    });
    const marked = store.delete("ConfigMap", "default", "f")!;
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    const released = structuredClone(marked);
    released.metadata.finalizers = [];
    store.update(released);
    expect(store.get("ConfigMap", "default", "f")).toBeUndefined();
  });

  it("empties a namespace before removing it, and refuses new content meanwhile", () => {
    const store = new MemoryStore();
    store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
    store.create({ ...pod("p", {}, "node-a"), metadata: { name: "p", namespace: "team" } });
    store.delete("Namespace", undefined, "team");
    expect(store.get("Namespace", undefined, "team")?.status.phase).toBe("Terminating");
    const refused = caught(() =>
      store.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "team" } }),
    );
    expect(refused.code).toBe(403);
    store.delete("Pod", "team", "p", { gracePeriodSeconds: 0 });
    expect(store.get("Namespace", undefined, "team")).toBeUndefined();
  });
});

describe("events and watches", () => {
  it("delivers events in order even when a listener writes", () => {
    const store = new MemoryStore();
    const seen: string[] = [];
    store.subscribe("ConfigMap", (event) => {
      if (event.object.metadata.name === "a") {
        store.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b", namespace: "default" } });
      }
    });
    store.subscribe("ConfigMap", (event) => seen.push(`${event.type} ${event.object.metadata.name}`));
    store.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "default" } });
    expect(seen).toEqual(["ADDED a", "ADDED b"]);
  });

  it("replays changes after a resourceVersion, filtered by selector", () => {
    const store = new MemoryStore();
    const from = store.resourceVersion;
    const created = store.create(pod("p"));
    const relabelled = structuredClone(created);
    relabelled.metadata.labels = { app: "other" };
    store.update(relabelled);
    const events: WatchEvent[] = [];
    const stop = store.watch("Pod", { resourceVersion: from, labelSelector: "app=web" }, (e) =>
      events.push(e),
    );
    store.create(pod("q"));
    stop();
    store.create(pod("r"));
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      "ADDED p",
      "DELETED p",
      "ADDED q",
    ]);
  });

  it("answers 410 Expired for a resourceVersion older than the kept history", () => {
    const store = new MemoryStore({ historyLimit: 4 });
    const from = store.resourceVersion;
    for (let i = 0; i < 10; i++)
      store.create({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `c${i}`, namespace: "default" },
      });
    const error = caught(() => store.watch("ConfigMap", { resourceVersion: from }, () => {}));
    expect(error.code).toBe(410);
    expect(error.reason).toBe("Expired");
    expect(error.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it("pages lists with limit and continue", () => {
    const store = new MemoryStore();
    for (let i = 0; i < 5; i++)
      store.create({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `c${i}`, namespace: "default" },
      });
    const first = store.listPage("ConfigMap", { namespace: "default", limit: 2 });
    expect(first.items.map((c) => c.metadata.name)).toEqual(["c0", "c1"]);
    expect(first.remainingItemCount).toBe(3);
    const second = store.listPage("ConfigMap", { namespace: "default", limit: 2, continue: first.continue });
    expect(second.items.map((c) => c.metadata.name)).toEqual(["c2", "c3"]);
    const last = store.listPage("ConfigMap", { namespace: "default", limit: 2, continue: second.continue });
    expect(last.items.map((c) => c.metadata.name)).toEqual(["c4"]);
    expect(last.continue).toBeUndefined();
  });

  it("filters lists by field selectors", () => {
    const store = new MemoryStore();
    store.create(pod("a", {}, "node-a"));
    store.create(pod("b", {}, "node-b"));
    expect(store.list("Pod", { fieldSelector: "spec.nodeName=node-b" }).map((p) => p.metadata.name)).toEqual([
      "b",
    ]);
  });
});
