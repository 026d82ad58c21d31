/**
 * @kubernetes/client-node against a started sandbox: typed APIs, the generic object API, Watch and an
 * informer, paging, server-side apply, dryRun, eviction, and injected faults.
 */
import { request } from "node:https";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/types.js";
import { addNodes, addRunningPod, startTestSandbox, type TestSandbox } from "../support/sandbox.js";
import { until } from "../support/wait.js";

async function apiError(
  promise: Promise<unknown>,
): Promise<{ code: number; body: KubeObject; headers: Record<string, string> }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code: number; body: unknown; headers: Record<string, string> };
    const body = typeof e.body === "string" ? JSON.parse(e.body) : (e.body as KubeObject);
    return { code: e.code, body, headers: e.headers ?? {} };
  }
  throw new Error("expected the call to fail");
}

/** A request to the sandbox's own admin API, trusting its certificate. */
function admin(
  t: TestSandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const url = new URL(path, t.sandbox.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: t.sandbox.certificate,
        headers: { authorization: `Bearer ${t.sandbox.token}`, "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe("client-node against the sandbox", () => {
  let t: TestSandbox;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  let nodes: string[];

  beforeAll(async () => {
    t = await startTestSandbox({ historyLimit: 50 });
    nodes = addNodes(t.sandbox.store);
    kc = new k8s.KubeConfig();
    kc.loadFromString(t.sandbox.kubeconfig());
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
  });

  afterAll(async () => {
    await t?.stop();
  });

  it("serves typed reads and writes with real Status errors", async () => {
    const listed = await core.listNode();
    expect(listed.items.map((n) => n.metadata?.labels?.["topology.kubernetes.io/zone"])).toEqual([
      "eu-west-1a",
      "eu-west-1b",
      "eu-west-1c",
    ]);
    const created = await apps.createNamespacedDeployment({
      namespace: "default",
      body: {
        metadata: { name: "api" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "api" } },
          template: {
            metadata: { labels: { app: "api" } },
            spec: { containers: [{ name: "api", image: "api:1" }] },
          },
        },
      },
    });
    expect(created.metadata?.uid).toBeDefined();
    expect(created.spec?.strategy?.type).toBe("RollingUpdate");
    const missing = await apiError(apps.readNamespacedDeployment({ name: "nope", namespace: "default" }));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({
      kind: "Status",
      reason: "NotFound",
      message: 'deployments.apps "nope" not found',
    });
    const stale = structuredClone(created);
    await apps.replaceNamespacedDeployment({
      name: "api",
      namespace: "default",
      body: { ...created, spec: { ...created.spec!, replicas: 3 } },
    });
    const conflict = await apiError(
      apps.replaceNamespacedDeployment({ name: "api", namespace: "default", body: stale }),
    );
    expect(conflict.code).toBe(409);
    expect(conflict.body.reason).toBe("Conflict");
    const invalid = await apiError(
      core.createNamespacedService({
        namespace: "default",
        body: { metadata: { name: "Bad" }, spec: { ports: [{ port: 80 }] } },
      }),
    );
    expect(invalid.code).toBe(422);
    expect(invalid.body.details.causes[0]).toMatchObject({
      reason: "FieldValueInvalid",
      field: "metadata.name",
    });
  });

  it("patches with JSON patch (the typed client's default) and merge patch", async () => {
    await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "settings" }, data: { a: "1" } },
    });
    const patched = await core.patchNamespacedConfigMap({
      name: "settings",
      namespace: "default",
      body: [{ op: "add", path: "/data/b", value: "2" }],
    });
    expect(patched.data).toEqual({ a: "1", b: "2" });
    const merged = await core.patchNamespacedConfigMap(
      { name: "settings", namespace: "default", body: { data: { a: null } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    expect(merged.data).toEqual({ b: "2" });
  });

  it("serves the status and scale subresources apart from the spec", async () => {
    const status = await apps.patchNamespacedDeploymentStatus(
      {
        name: "api",
        namespace: "default",
        body: { status: { replicas: 3, readyReplicas: 2 }, spec: { replicas: 99 } },
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    expect(status.status).toMatchObject({ replicas: 3, readyReplicas: 2 });
    expect(status.spec?.replicas).toBe(3);
    const scale = await apps.readNamespacedDeploymentScale({ name: "api", namespace: "default" });
    expect(scale).toMatchObject({
      kind: "Scale",
      spec: { replicas: 3 },
      status: { replicas: 3, selector: "app=api" },
    });
    await apps.replaceNamespacedDeploymentScale({
      name: "api",
      namespace: "default",
      body: { ...scale, spec: { replicas: 1 } },
    });
    const after = await apps.readNamespacedDeployment({ name: "api", namespace: "default" });
    expect(after.spec?.replicas).toBe(1);
    expect(after.status?.readyReplicas).toBe(2);
  });

  it("deletes a collection by label", async () => {
    for (const name of ["col-1", "col-2"]) {
      await core.createNamespacedConfigMap({
        namespace: "default",
        body: { metadata: { name, labels: { batch: "old" } } },
      });
    }
    await core.deleteCollectionNamespacedConfigMap({ namespace: "default", labelSelector: "batch=old" });
    expect(t.sandbox.store.list("ConfigMap", { labelSelector: "batch=old" })).toEqual([]);
  });

  it("pages a list with limit and continue", async () => {
    for (let i = 0; i < 5; i++) {
      await core.createNamespacedSecret({
        namespace: "default",
        body: { metadata: { name: `page-${i}`, labels: { paged: "yes" } } },
      });
    }
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedSecret({
        namespace: "default",
        labelSelector: "paged=yes",
        limit: 2,
        _continue: token,
      });
      names.push(...page.items.map((s) => s.metadata!.name!));
      token = page.metadata?._continue;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(names).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4"]);
  });

  it("watches from a resourceVersion, and answers 410 Expired for one that is too old", async () => {
    const start = (await core.listNamespacedConfigMap({ namespace: "default" })).metadata!.resourceVersion!;
    const watch = new k8s.Watch(kc);
    const events: string[] = [];
    const request = await watch.watch(
      "/api/v1/namespaces/default/configmaps",
      { resourceVersion: start },
      (type, object) => events.push(`${type} ${object.metadata.name}`),
      () => {},
    );
    await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "watched" } } });
    await core.deleteNamespacedConfigMap({ name: "watched", namespace: "default" });
    await until("two watch events", () => events.length >= 2, 5_000);
    request.abort();
    expect(events).toEqual(["ADDED watched", "DELETED watched"]);

    t.sandbox.store.compact();
    const errors: Array<{ type: string; code: number; reason: string }> = [];
    let done = false;
    await watch.watch(
      "/api/v1/namespaces/default/configmaps",
      { resourceVersion: start },
      (type, object) => errors.push({ type, code: object.code, reason: object.reason }),
      () => {
        done = true;
      },
    );
    await until("the expired watch to end", () => done, 5_000);
    expect(errors).toEqual([{ type: "ERROR", code: 410, reason: "Expired" }]);
  });

  it("keeps an informer's cache in step with adds, updates and deletes", async () => {
    const path = "/api/v1/namespaces/default/configmaps";
    const informer = k8s.makeInformer(
      kc,
      path,
      () => core.listNamespacedConfigMap({ namespace: "default", labelSelector: "informed=yes" }),
      "informed=yes",
    );
    const seen: string[] = [];
    informer.on("add", (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on("update", (o) => seen.push(`update ${o.metadata?.name}`));
    informer.on("delete", (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "inf", labels: { informed: "yes" } } },
    });
    await core.patchNamespacedConfigMap({
      name: "inf",
      namespace: "default",
      body: [{ op: "add", path: "/data", value: { k: "v" } }],
    });
    await core.deleteNamespacedConfigMap({ name: "inf", namespace: "default" });
    await until("three informer events", () => seen.length >= 3, 5_000);
    await informer.stop();
    expect(seen).toEqual(["add inf", "update inf", "delete inf"]);
    expect(informer.list()).toEqual([]);
  });

  it("server-side apply: conflicts, force, and fields a manager stops applying", async () => {
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const config = (replicas: number, annotations: Record<string, string>) =>
      ({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "ssa", namespace: "default", annotations },
        spec: {
          replicas,
          selector: { matchLabels: { app: "ssa" } },
          template: {
            metadata: { labels: { app: "ssa" } },
            spec: { containers: [{ name: "c", image: "c:1" }] },
          },
        },
      }) as KubeObject;
    const apply = (manager: string, body: KubeObject, force = false) =>
      objects.patch(
        body as k8s.KubernetesObject,
        undefined,
        undefined,
        manager,
        force,
        k8s.PatchStrategy.ServerSideApply,
      );
    await apply("clouddrove", config(3, { a: "1", b: "2" }));
    const conflict = await apiError(apply("someone-else", config(4, {})));
    expect(conflict.code).toBe(409);
    expect(conflict.body.message).toBe(
      'Apply failed with 1 conflict: conflict with "clouddrove": .spec.replicas',
    );
    expect(conflict.body.details.causes).toEqual([
      { reason: "FieldManagerConflict", message: 'conflict with "clouddrove"', field: ".spec.replicas" },
    ]);
    const forced = (await apply("someone-else", config(4, {}), true)) as KubeObject;
    expect(forced.spec.replicas).toBe(4);
    // clouddrove stops applying annotation b: it goes; replicas now belongs to someone-else and stays.
    const { replicas: _dropped, ...specWithoutReplicas } = config(3, {}).spec;
    const reapplied = (await apply("clouddrove", {
      ...config(3, { a: "1" }),
      spec: specWithoutReplicas,
    })) as KubeObject;
    expect(reapplied.metadata.annotations).toEqual({ a: "1" });
    expect(reapplied.spec.replicas).toBe(4);
    const managers = (reapplied.metadata.managedFields ?? [])
      .map((m) => (m as { manager: string }).manager)
      .sort();
    expect(managers).toEqual(["clouddrove", "someone-else"]);
  });

  it("serves Leases: one create wins, a replace with a stale resourceVersion is refused", async () => {
    const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    const lease = (holder: string) => ({
      metadata: { name: "lock", namespace: "default" },
      spec: { holderIdentity: holder, leaseDurationSeconds: 30 },
    });
    const created = await coordination.createNamespacedLease({ namespace: "default", body: lease("a") });
    const second = await apiError(
      coordination.createNamespacedLease({ namespace: "default", body: lease("b") }),
    );
    expect(second.code).toBe(409);
    expect(second.body.reason).toBe("AlreadyExists");
    const base = { ...lease("b"), metadata: { ...created.metadata } };
    await coordination.replaceNamespacedLease({ name: "lock", namespace: "default", body: base });
    const stale = await apiError(
      coordination.replaceNamespacedLease({
        name: "lock",
        namespace: "default",
        body: { ...base, spec: { holderIdentity: "c" } },
      }),
    );
    expect(stale.code).toBe(409);
    expect(stale.body.reason).toBe("Conflict");
    const read = await coordination.readNamespacedLease({ name: "lock", namespace: "default" });
    expect(read.spec?.holderIdentity).toBe("b");
  });

  it("stores nothing on dryRun=All", async () => {
    const before = t.sandbox.store.resourceVersion;
    const result = await core.createNamespacedConfigMap({
      namespace: "default",
      dryRun: "All",
      body: { metadata: { name: "dry" }, data: { x: "y" } },
    });
    expect(result.metadata?.name).toBe("dry");
    expect(t.sandbox.store.get("ConfigMap", "default", "dry")).toBeUndefined();
    await core.deleteNamespacedConfigMap({ name: "settings", namespace: "default", dryRun: "All" });
    expect(t.sandbox.store.get("ConfigMap", "default", "settings")).toBeDefined();
    expect(t.sandbox.store.resourceVersion).toBe(before);
  });

  describe("eviction", () => {
    const evict = (name: string) =>
      core.createNamespacedPodEviction({
        name,
        namespace: "default",
        body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: "default" } },
      });

    function budget(name: string, selector: Record<string, string>, status: Record<string, number>): void {
      const store = t.sandbox.store;
      const pdb = store.create({
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name, namespace: "default" },
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
      });
      store.updateStatus({
        ...structuredClone(pdb),
        status: { ...status, observedGeneration: pdb.metadata.generation },
      });
    }

    it("evicts when the budget allows it (201), recording the disruption", async () => {
      addRunningPod(t.sandbox.store, "ev-1", { node: nodes[0]!, labels: { app: "ev" } });
      budget(
        "ev",
        { app: "ev" },
        { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 },
      );
      const result = await evict("ev-1");
      // The answer is a Success Status (client-node types it as an Eviction).
      expect(result.kind).toBe("Status");
      const pdb = t.sandbox.store.get("PodDisruptionBudget", "default", "ev")!;
      expect(pdb.status.disruptionsAllowed).toBe(0);
      expect(Object.keys(pdb.status.disruptedPods)).toEqual(["ev-1"]);
      expect(t.sandbox.store.get("Pod", "default", "ev-1")?.metadata.deletionTimestamp).toBeDefined();
    });

    it("answers 429 when the budget allows no disruption", async () => {
      addRunningPod(t.sandbox.store, "ev-2", { node: nodes[1]!, labels: { app: "ev" } });
      const refused = await apiError(evict("ev-2"));
      expect(refused.code).toBe(429);
      expect(refused.body.reason).toBe("TooManyRequests");
      expect(refused.body.message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
      expect(refused.body.details.causes[0]).toEqual({
        reason: "DisruptionBudget",
        message: "The disruption budget ev needs 2 healthy pods and has 3 currently",
      });
      expect(t.sandbox.store.get("Pod", "default", "ev-2")?.metadata.deletionTimestamp).toBeUndefined();
    });

    it("answers 404 for a pod that is gone and 500 for a pod under two budgets", async () => {
      expect((await apiError(evict("never-was"))).code).toBe(404);
      addRunningPod(t.sandbox.store, "ev-3", { node: nodes[2]!, labels: { app: "two", tier: "x" } });
      budget("two-a", { app: "two" }, { disruptionsAllowed: 1 });
      budget("two-b", { tier: "x" }, { disruptionsAllowed: 1 });
      const error = await apiError(evict("ev-3"));
      expect(error.code).toBe(500);
      expect(error.body.message).toContain(
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
      );
    });
  });

  describe("faults", () => {
    it("returns injected errors to the client, for the chosen verb and path only", async () => {
      t.sandbox.faults.add({
        verbs: ["list"],
        path: "/configmaps$",
        action: { type: "error", status: 503 },
        times: 1,
      });
      const failed = await apiError(core.listNamespacedConfigMap({ namespace: "default" }));
      expect(failed.code).toBe(503);
      expect(failed.body.reason).toBe("ServiceUnavailable");
      await expect(core.listNamespacedConfigMap({ namespace: "default" })).resolves.toBeDefined();
    });

    it("resets connections and throttles with 429 and Retry-After", async () => {
      t.sandbox.faults.add({ verbs: ["get"], path: "/nodes/", action: { type: "reset" }, times: 1 });
      await expect(core.readNode({ name: nodes[0]! })).rejects.toThrow();
      t.sandbox.faults.add({
        path: "/nodes$",
        action: { type: "error", status: 429, retryAfterSeconds: 7 },
        times: 1,
      });
      const throttled = await apiError(core.listNode());
      expect(throttled.code).toBe(429);
      expect(throttled.headers["retry-after"]).toBe("7");
      expect(t.sandbox.faults.state().rules).toEqual([]);
      t.sandbox.faults.clear();
    });

    it("are managed over the admin API, and state shows them", async () => {
      const added = await admin(t, "POST", "/sandbox/v1/faults", {
        verbs: ["get"],
        path: "/namespaces/kube-system$",
        action: { type: "error", status: 500, message: "etcd is sad" },
      });
      expect(added.status).toBe(201);
      const failed = await apiError(core.readNamespace({ name: "kube-system" }));
      expect(failed.code).toBe(500);
      expect(failed.body.message).toBe("etcd is sad");
      const state = (await admin(t, "GET", "/sandbox/v1/state")).json as {
        faults: { rules: Array<{ hits: number }> };
      };
      expect(state.faults.rules).toHaveLength(1);
      expect(state.faults.rules[0]!.hits).toBe(1);
      expect((await admin(t, "DELETE", "/sandbox/v1/faults")).status).toBe(200);
      await expect(core.readNamespace({ name: "kube-system" })).resolves.toBeDefined();
      const bad = await admin(t, "POST", "/sandbox/v1/faults", { action: { type: "explode" } });
      expect(bad.status).toBe(400);
    });

    it("cuts a watch after some time", async () => {
      t.sandbox.faults.add({
        verbs: ["watch"],
        path: "/configmaps$",
        action: { type: "cutWatch", afterMs: 50 },
        times: 1,
      });
      let ended = false;
      await new k8s.Watch(kc).watch(
        "/api/v1/namespaces/default/configmaps",
        {},
        () => {},
        () => {
          ended = true;
        },
      );
      await until("the watch to be cut", () => ended, 5_000);
      expect(t.sandbox.faults.state().rules).toEqual([]);
    });

    it("cuts a watch after N events", async () => {
      t.sandbox.faults.add({ verbs: ["watch"], action: { type: "cutWatch", afterEvents: 1 }, times: 1 });
      const watch = new k8s.Watch(kc);
      const events: string[] = [];
      let ended = false;
      await watch.watch(
        "/api/v1/nodes",
        {},
        (type, object) => events.push(`${type} ${object.metadata.name}`),
        () => {
          ended = true;
        },
      );
      await until("the cut watch to end", () => ended, 5_000);
      expect(events).toEqual([`ADDED ${nodes[0]}`]);
    });
  });
});
