/**
 * src/adapters/kube.ts: the one request path, on a fake clock against a scripted API server on loopback —
 * discovery tells "not served" (404) from a failing server (503), Retry-After reaches the pauses, Ctrl-C
 * stops a call at once, and a call made after Ctrl-C (the command's clean-up) runs once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { connectKube, retryPolicy } from "../../src/adapters/kube.js";
import type { Clock } from "../../src/adapters/kube-retry.js";
import { evaluatePreflight } from "../../src/core/deploy/preflight.js";
import { InterruptedError, OperationError, UsageError } from "../../src/errors.js";
import { gatherPreflightFacts } from "../../src/steps/deploy/preflight.js";
import { configWith } from "../support/render-fixtures.js";

type Answer = { code: number; body: unknown; headers?: Record<string, string> };
type Script = (path: string) => Answer | undefined;

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const resources = (groupVersion: string, ...kinds: Array<[string, string, boolean]>) => ({
  kind: "APIResourceList",
  apiVersion: "v1",
  groupVersion,
  resources: kinds.map(([name, kind, namespaced]) => ({
    name,
    kind,
    namespaced,
    singularName: "",
    verbs: ["list"],
  })),
});

/** What a small EKS-like cluster answers: three nodes in three zones, the EFS driver, the four APIs. */
const CLUSTER: Record<string, unknown> = {
  "/api/v1": resources("v1", ["nodes", "Node", false]),
  "/apis/storage.k8s.io/v1": resources("storage.k8s.io/v1", ["csidrivers", "CSIDriver", false]),
  "/apis/apps/v1": resources(
    "apps/v1",
    ["deployments", "Deployment", true],
    ["deployments/status", "Deployment", true],
  ),
  "/apis/policy/v1": resources("policy/v1", ["poddisruptionbudgets", "PodDisruptionBudget", true]),
  "/apis/networking.k8s.io/v1": resources("networking.k8s.io/v1", ["networkpolicies", "NetworkPolicy", true]),
  "/apis/batch/v1": resources("batch/v1", ["cronjobs", "CronJob", true], ["jobs", "Job", true]),
  "/api/v1/nodes": {
    kind: "NodeList",
    apiVersion: "v1",
    metadata: {},
    items: ["a", "b", "c"].map((zone) => ({
      metadata: { name: `node-${zone}`, labels: { "topology.kubernetes.io/zone": `eu-west-1${zone}` } },
      spec: {},
      status: { conditions: [{ type: "Ready", status: "True" }] },
    })),
  },
  "/apis/storage.k8s.io/v1/csidrivers": {
    kind: "CSIDriverList",
    apiVersion: "storage.k8s.io/v1",
    metadata: {},
    items: [{ metadata: { name: "efs.csi.aws.com" }, spec: {} }],
  },
};

const failure = (code: number, message: string, headers: Record<string, string> = {}): Answer => ({
  code,
  body: { kind: "Status", apiVersion: "v1", status: "Failure", message, code },
  headers,
});

/** Serves CLUSTER, except where `script` answers first; records every path asked for. */
async function serve(script: Script = () => undefined) {
  const seen: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    seen.push(path);
    const answer =
      script(path) ?? (path in CLUSTER ? { code: 200, body: CLUSTER[path] } : failure(404, "not found"));
    res.writeHead(answer.code, { "content-type": "application/json", ...answer.headers });
    res.end(JSON.stringify(answer.body));
  };
  const started = createServer(handler);
  server = started;
  await new Promise<void>((resolve) => started.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(started.address() as AddressInfo).port}`;
  const kubeconfig = [
    "apiVersion: v1",
    "kind: Config",
    `clusters: [{name: c, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]`,
    "users: [{name: u, user: {token: t0k3n}}]",
    "contexts: [{name: test, context: {cluster: c, user: u}}]",
    "current-context: test",
  ].join("\n");
  return { seen, kubeconfig, count: (path: string) => seen.filter((p) => p === path).length };
}

/** Time that moves only when a pause is taken; pauses are recorded. */
function fakeClock(): Clock & { pauses: number[] } {
  let now = 0;
  const pauses: number[] = [];
  return {
    pauses,
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw new InterruptedError();
      pauses.push(ms);
      now += ms;
    },
    random: () => 0.5,
  };
}

/** Fails the first `n` requests for `path` with `answer`. */
function firstFailing(path: string, n: number, answer: Answer): Script {
  let left = n;
  return (p) => (p === path && left-- > 0 ? answer : undefined);
}

describe("API discovery", () => {
  it("a group/version is missing only when the server answered 404 for it", async () => {
    const api = await serve((p) =>
      p === "/apis/policy/v1" ? failure(404, "the server could not find it") : undefined,
    );
    const kube = await connectKube({ kubeconfigText: api.kubeconfig, clock: fakeClock() });
    expect(await kube.servedKinds("policy/v1")).toBeUndefined();
    expect(await kube.servedKinds("batch/v1")).toEqual(["CronJob", "Job"]);
    expect(await kube.servedKinds("apps/v1")).toEqual(["Deployment"]);
    // Not retried: 404 is an answer.
    expect(api.count("/apis/policy/v1")).toBe(1);
  });

  it("one 503 on discovery is retried, and the kind is found", async () => {
    const clock = fakeClock();
    const api = await serve(firstFailing("/apis/policy/v1", 1, failure(503, "etcd leader changed")));
    const kube = await connectKube({ kubeconfigText: api.kubeconfig, clock });
    expect(await kube.servedKinds("policy/v1")).toEqual(["PodDisruptionBudget"]);
    expect(api.count("/apis/policy/v1")).toBe(2);
    expect(clock.pauses).toEqual([100]);
  });

  it("a discovery that keeps failing is an API error once the budget is spent, never 'not served'", async () => {
    const clock = fakeClock();
    const api = await serve((p) =>
      p === "/apis/policy/v1" ? failure(503, "etcd leader changed") : undefined,
    );
    const kube = await connectKube({ kubeconfigText: api.kubeconfig, clock });
    const error = await kube.servedKinds("policy/v1").catch((e) => e);
    expect(error).toBeInstanceOf(OperationError);
    // Pauses of 100, 200, 400, 800 ms, then 1 s (draws at half their ceilings), while they fit in 30 s.
    expect(clock.pauses).toEqual([100, 200, 400, 800, ...Array(28).fill(1_000)]);
    expect(error.message).toBe(
      "The Kubernetes API answered 503 while discovering the resources of policy/v1: etcd leader changed (still failing after 33 attempts in 30 s)",
    );
    expect(api.count("/apis/policy/v1")).toBe(clock.pauses.length + 1);
    expect(clock.pauses.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(30_000);
  });

  it("deploy's preflight: a 404 blocks as an API the cluster lacks, a 503 that persists fails as an API error", async () => {
    const config = configWith("storage.efs.fileSystemId=fs-0123456789abcdef0");
    const missing = await serve((p) => (p === "/apis/policy/v1" ? failure(404, "not found") : undefined));
    const facts = await gatherPreflightFacts(await connectKube({ kubeconfigText: missing.kubeconfig }));
    expect(evaluatePreflight(config, facts).blocking).toEqual([
      "the cluster does not serve policy/v1 PodDisruptionBudget, needed for the disruption budget that lets drains evict one replica at a time",
    ]);
    await new Promise<void>((resolve) => server?.close(() => resolve()));

    const flaky = await serve((p) =>
      p === "/apis/policy/v1" ? failure(503, "etcd leader changed") : undefined,
    );
    const error = await gatherPreflightFacts(
      await connectKube({ kubeconfigText: flaky.kubeconfig, clock: fakeClock() }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect(error.message).toContain("answered 503 while discovering the resources of policy/v1");
    expect(error.message).not.toContain("does not serve");
  });

  it("deploy's preflight after one 503 on discovery finds every API", async () => {
    const api = await serve(firstFailing("/apis/policy/v1", 1, failure(503, "etcd leader changed")));
    const facts = await gatherPreflightFacts(
      await connectKube({ kubeconfigText: api.kubeconfig, clock: fakeClock() }),
    );
    expect(facts.kinds["policy/v1"]).toEqual(["PodDisruptionBudget"]);
    expect(
      evaluatePreflight(configWith("storage.efs.fileSystemId=fs-0123456789abcdef0"), facts).blocking,
    ).toEqual([]);
  });
});

describe("the request path", () => {
  it("pauses as long as Retry-After says", async () => {
    const clock = fakeClock();
    const api = await serve(
      firstFailing("/api/v1/nodes", 2, failure(429, "too many requests", { "retry-after": "7" })),
    );
    const kube = await connectKube({ kubeconfigText: api.kubeconfig, clock });
    expect(await kube.list("v1", "Node")).toHaveLength(3);
    expect(clock.pauses).toEqual([7_000, 7_000]);
  });

  it("stops at once when Ctrl-C comes during a pause", async () => {
    const controller = new AbortController();
    const api = await serve((p) => {
      if (p !== "/api/v1/nodes") return undefined;
      setImmediate(() => controller.abort());
      // An hour: only Ctrl-C can end this pause.
      return failure(503, "busy", { "retry-after": "3600" });
    });
    const kube = await connectKube({
      kubeconfigText: api.kubeconfig,
      signal: controller.signal,
      retry: { budgetMs: 7_200_000 },
    });
    await expect(kube.list("v1", "Node")).rejects.toBeInstanceOf(InterruptedError);
    expect(api.count("/api/v1/nodes")).toBe(1);
  });

  it("a call made after Ctrl-C (the command's clean-up) runs once, to its end", async () => {
    const controller = new AbortController();
    controller.abort();
    let fail = true;
    const api = await serve((p) => (p === "/api/v1/nodes" && fail ? failure(503, "busy") : undefined));
    const kube = await connectKube({
      kubeconfigText: api.kubeconfig,
      signal: controller.signal,
      clock: fakeClock(),
    });
    await expect(kube.list("v1", "Node")).rejects.toBeInstanceOf(OperationError);
    expect(api.count("/api/v1/nodes")).toBe(1);
    fail = false;
    expect(await kube.list("v1", "Node")).toHaveLength(3);
  });

  it("takes each call's budget from CLOUDDROVE_API_RETRY_BUDGET, and refuses one that is not a duration", () => {
    expect(retryPolicy({}).budgetMs).toBe(30_000);
    expect(retryPolicy({ CLOUDDROVE_API_RETRY_BUDGET: "2m" }).budgetMs).toBe(120_000);
    expect(retryPolicy({ CLOUDDROVE_API_RETRY_BUDGET: "2m" }, { budgetMs: 5 }).budgetMs).toBe(5);
    expect(() => retryPolicy({ CLOUDDROVE_API_RETRY_BUDGET: "soon" })).toThrow(UsageError);
  });
});
