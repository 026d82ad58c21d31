import { describe, expect, it } from "vitest";
import { serverSideApply } from "../../src/api/server-side-apply.js";
import { FaultInjector } from "../../src/faults.js";
import { jsonPatch, mergePatch, strategicMergePatch } from "../../src/patch.js";
import { ApiError, type KubeObject } from "../../src/types.js";

const deployment = (): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "default", labels: { app: "web" } },
  spec: {
    replicas: 3,
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        containers: [
          { name: "app", image: "app:1", env: [{ name: "A", value: "1" }] },
          { name: "sidecar", image: "side:1" },
        ],
        tolerations: [{ key: "x", operator: "Exists" }],
      },
    },
  },
});

describe("strategic merge patch", () => {
  it("cordons a node", () => {
    expect(
      strategicMergePatch({ spec: { podCIDR: "10.0.0.0/24" } }, { spec: { unschedulable: true } }),
    ).toEqual({
      spec: { podCIDR: "10.0.0.0/24", unschedulable: true },
    });
  });

  it("changes one container's image by name, keeping the others (kubectl set image)", () => {
    const patched = strategicMergePatch(deployment(), {
      spec: { template: { spec: { containers: [{ name: "app", image: "app:2" }] } } },
    });
    expect(patched.spec.template.spec.containers).toEqual([
      { name: "app", image: "app:2", env: [{ name: "A", value: "1" }] },
      { name: "sidecar", image: "side:1" },
    ]);
  });

  it("adds a template annotation (kubectl rollout restart) and deletes with null", () => {
    const patched = strategicMergePatch(deployment(), {
      metadata: { labels: { app: null } },
      spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "now" } } } },
    });
    expect(patched.metadata.labels).toEqual({});
    expect(patched.spec.template.metadata).toEqual({
      labels: { app: "web" },
      annotations: { "kubectl.kubernetes.io/restartedAt": "now" },
    });
  });

  it("honours $patch: delete in keyed lists, replaces unkeyed lists, and ignores $setElementOrder", () => {
    const patched = strategicMergePatch(deployment(), {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "app" }],
            containers: [{ name: "sidecar", $patch: "delete" }],
            tolerations: [{ key: "y", operator: "Exists" }],
          },
        },
      },
    });
    expect(patched.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(["app"]);
    expect(patched.spec.template.spec.tolerations).toEqual([{ key: "y", operator: "Exists" }]);
  });

  it("merges finalizers as a set and removes with $deleteFromPrimitiveList", () => {
    const object = { metadata: { finalizers: ["a", "b"] } };
    expect(strategicMergePatch(object, { metadata: { finalizers: ["b", "c"] } }).metadata.finalizers).toEqual(
      ["a", "b", "c"],
    );
    expect(
      strategicMergePatch(object, { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } }).metadata
        .finalizers,
    ).toEqual(["b"]);
  });
});

describe("merge and JSON patches", () => {
  it("merge patch replaces lists and deletes with null", () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null }, l: [3] })).toEqual({
      a: 1,
      b: { d: 3 },
      l: [3],
    });
  });

  it("JSON patch adds, replaces, removes, and fails a test operation with 422", () => {
    const result = jsonPatch({ data: { a: "1" }, items: [1, 2] }, [
      { op: "add", path: "/data/b", value: "2" },
      { op: "replace", path: "/data/a", value: "x" },
      { op: "remove", path: "/items/0" },
      { op: "add", path: "/items/-", value: 9 },
    ]);
    expect(result).toEqual({ data: { a: "x", b: "2" }, items: [2, 9] });
    expect(() => jsonPatch({ a: 1 }, [{ op: "test", path: "/a", value: 2 }])).toThrow(ApiError);
    expect(() => jsonPatch({ a: 1 }, [{ op: "replace", path: "/missing", value: 2 }])).toThrow(
      "doc is missing path",
    );
  });
});

describe("server-side apply", () => {
  const time = "2025-01-01T00:00:00Z";
  /** `applied` over `live` for `manager`, as a server applies a Deployment (at a fixed time). */
  const apply = (live: KubeObject | undefined, applied: KubeObject, manager: string, force = false) =>
    serverSideApply({ live, applied, manager, force, apiVersion: "apps/v1", time });

  it("creates ownership on first apply and reports a conflict for another manager's differing value", () => {
    const applied = apply(undefined, deployment(), "clouddrove");
    expect(applied.metadata.managedFields).toHaveLength(1);
    const other = deployment();
    other.spec.replicas = 5;
    other.spec.template.spec.containers[0].image = "app:9";
    let error: ApiError | undefined;
    try {
      apply(applied, other, "ops");
    } catch (e) {
      error = e as ApiError;
    }
    expect(error?.code).toBe(409);
    expect(error?.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "clouddrove":\n- .spec.replicas\n- .spec.template.spec.containers[name="app"].image',
    );
  });

  it("shares fields applied with the same value, and force takes them over", () => {
    const first = apply(undefined, deployment(), "a");
    const shared = apply(first, deployment(), "b");
    expect(shared.metadata.managedFields?.map((m) => (m as { manager: string }).manager)).toEqual(["a", "b"]);
    const changed = deployment();
    changed.spec.replicas = 1;
    const forced = apply(shared, changed, "b", true);
    expect(forced.spec.replicas).toBe(1);
    const ownerOfReplicas = (forced.metadata.managedFields ?? []).filter((m) =>
      JSON.stringify((m as { fieldsV1: unknown }).fieldsV1).includes('"f:replicas"'),
    );
    expect(ownerOfReplicas.map((m) => (m as { manager: string }).manager)).toEqual(["b"]);
  });

  it("removes fields the manager stops applying, unless another manager owns them", () => {
    const first = apply(undefined, deployment(), "a");
    const smaller = deployment();
    smaller.spec.template.spec.containers = [smaller.spec.template.spec.containers[0]];
    delete smaller.metadata.labels;
    const result = apply(first, smaller, "a");
    expect(result.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(["app"]);
    expect(result.metadata.labels).toEqual({});
  });
});

describe("fault injection", () => {
  it("applies a rule to the chosen verb and path for N requests", () => {
    const faults = new FaultInjector();
    faults.add({ verbs: ["list"], path: "/pods$", action: { type: "error", status: 500 }, times: 2 });
    expect(faults.decide("get", "/api/v1/namespaces/default/pods/x").error).toBeUndefined();
    expect(faults.decide("list", "/api/v1/pods").error?.status).toBe(500);
    expect(faults.decide("list", "/api/v1/pods").error?.status).toBe(500);
    expect(faults.decide("list", "/api/v1/pods").error).toBeUndefined();
    expect(faults.state().rules).toEqual([]);
  });

  it("adds latency and honours a probability", () => {
    const rolls = [0.9, 0.1];
    const faults = new FaultInjector(() => rolls.shift() ?? 0);
    faults.latencyMs = 5;
    faults.add({ action: { type: "latency", ms: 20 }, probability: 0.5 });
    expect(faults.decide("get", "/x").delayMs).toBe(5);
    expect(faults.decide("get", "/x").delayMs).toBe(25);
  });
});
