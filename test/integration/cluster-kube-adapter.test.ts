/**
 * The Kubernetes adapter against a small real HTTP server on 127.0.0.1 that answers like an API server:
 * transient failures are retried, 401/403 and refused connections are exit-4 errors naming the context.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { connectKube } from "../../src/adapters/kube.js";
import { CredentialsError, ExitCode, OperationError } from "../../src/errors.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const resourceList = {
  kind: "APIResourceList",
  groupVersion: "v1",
  resources: [
    { name: "nodes", singularName: "node", namespaced: false, kind: "Node", verbs: ["get", "list"] },
  ],
};

function json(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(code, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function serve(handler: Handler): Promise<string> {
  const started = createServer(handler);
  server = started;
  await new Promise<void>((resolve) => started.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(started.address() as AddressInfo).port}`;
}

function kubeconfig(url: string, context = "test-ctx"): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    `clusters: [{name: c, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]`,
    "users: [{name: u, user: {token: t0k3n}}]",
    `contexts: [{name: ${context}, context: {cluster: c, user: u}}]`,
    `current-context: ${context}`,
  ].join("\n");
}

const nodeList = { kind: "NodeList", apiVersion: "v1", metadata: {}, items: [{ metadata: { name: "n1" } }] };

describe("the Kubernetes adapter", () => {
  it("retries 503, 429 (honouring Retry-After) and connection resets, then succeeds", async () => {
    const seen: string[] = [];
    let failures = ["503", "429", "reset"];
    const url = await serve((req, res) => {
      if (req.url === "/api/v1") return json(res, 200, resourceList);
      seen.push(req.url ?? "");
      const next = failures.shift();
      if (next === "503")
        return json(res, 503, { kind: "Status", message: "etcdserver: leader changed", code: 503 });
      if (next === "429")
        return json(res, 429, { kind: "Status", message: "too many", code: 429 }, { "retry-after": "0" });
      if (next === "reset") return req.socket.destroy();
      json(res, 200, nodeList);
    });
    // A small budget: the 503s that never stop below must end the call soon.
    const kube = await connectKube({
      kubeconfigText: kubeconfig(url),
      retry: { baseDelayMs: 1, maxDelayMs: 5, budgetMs: 500 },
    });
    const nodes = await kube.list("v1", "Node");
    expect(nodes.map((n) => n.metadata?.name)).toEqual(["n1"]);
    expect(seen).toHaveLength(4);
    failures = Array.from({ length: 10_000 }, () => "503");
    seen.length = 0;
    const error = await kube.list("v1", "Node").catch((e) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect(error.message).toMatch(
      /^The Kubernetes API answered 503 while listing Node objects: etcdserver: leader changed \(still failing after \d+ attempts in \d+ s\)$/,
    );
    // Retried until the budget ran out, not given up after a fixed count.
    expect(seen.length).toBeGreaterThan(4);
    expect(error.message).toContain(`after ${seen.length} attempts`);
  });

  it("401 is a credentials error (exit 4) naming the context", async () => {
    const url = await serve((req, res) => {
      if (req.url === "/api/v1") return json(res, 200, resourceList);
      json(res, 401, { kind: "Status", message: "Unauthorized", reason: "Unauthorized", code: 401 });
    });
    const kube = await connectKube({ kubeconfigText: kubeconfig(url, "prod-admin") });
    const error = await kube.list("v1", "Node").catch((e) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error.exitCode).toBe(ExitCode.credentials);
    expect(error.message).toContain("refused the credentials of context prod-admin (401)");
  });

  it("an unreachable server is a credentials error naming the context and server", async () => {
    const url = await serve(() => {});
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const kube = await connectKube({ kubeconfigText: kubeconfig(url, "gone") });
    const error = await kube.list("v1", "Node").catch((e) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error.message).toContain(`The cluster of context gone (${url}) could not be reached`);
  });

  it("a missing context or kubeconfig is exit 4 with the fix", async () => {
    await expect(
      connectKube({ kubeconfigText: kubeconfig("http://127.0.0.1:1"), context: "nope" }),
    ).rejects.toThrow("The kubeconfig has no context named nope.");
    const missing = await connectKube({ kubeconfigPath: "/nonexistent/kubeconfig" }).catch((e) => e);
    expect(missing).toBeInstanceOf(CredentialsError);
    expect(missing.message).toBe("No kubeconfig found at /nonexistent/kubeconfig.");
  });

  it("get answers undefined for 404 and apply sends server-side apply as clouddrove", async () => {
    const requests: Array<{ method?: string; url?: string; type?: string; body: string }> = [];
    const url = await serve((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        if (req.url === "/api/v1") return json(res, 200, resourceList);
        requests.push({ method: req.method, url: req.url, type: req.headers["content-type"], body });
        if (req.method === "GET") return json(res, 404, { kind: "Status", reason: "NotFound", code: 404 });
        json(res, 200, JSON.parse(body));
      });
    });
    const kube = await connectKube({ kubeconfigText: kubeconfig(url) });
    expect(await kube.get("v1", "Node", "missing")).toBeUndefined();
    await kube.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "n1", labels: { a: "b" } } });
    const apply = requests.find((r) => r.method === "PATCH");
    expect(apply?.url).toBe("/api/v1/nodes/n1?fieldManager=clouddrove&force=false");
    expect(apply?.type).toBe("application/apply-patch+yaml");
  });
});
