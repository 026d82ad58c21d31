/**
 * src/adapters/kube-errors.ts: what a failed Kubernetes call means — the Status read from the answer,
 * which failures are worth retrying, and the typed error (with its exit code and hint) the user sees.
 */
import { describe, expect, it } from "vitest";
import { failureOf, kubeError, verdictOf } from "../../src/adapters/kube-errors.js";
import { KubeApiError } from "../../src/adapters/kube-http.js";
import { CredentialsError, ExitCode, OperationError, UsageError } from "../../src/errors.js";

const status = (message: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message, ...extra });

/** An answer as kube-http.ts reports it: Node gives header names in lower case, the body as text. */
const api = (code: number, body: unknown, headers: Record<string, string> = {}) =>
  new KubeApiError(
    code,
    Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])),
    typeof body === "string" ? body : JSON.stringify(body),
    { method: "GET", path: "/api/v1/pods" },
  );

const network = (code: string) => Object.assign(new Error(`request failed, reason: ${code}`), { code });

const where = { context: "prod-admin", server: "https://k8s.example:6443" };

describe("reading a failed call", () => {
  it("takes the status, reason and message from the Kubernetes Status, as text or parsed", () => {
    expect(failureOf(api(409, status("Apply failed with 1 conflict", { reason: "Conflict" })))).toEqual({
      status: 409,
      reason: "Conflict",
      message: "Apply failed with 1 conflict",
      retryAfterMs: undefined,
    });
    const parsed = {
      message: "pods is forbidden",
      reason: "Forbidden",
      details: { causes: [{ message: "x" }] },
    };
    expect(failureOf(api(403, parsed))).toMatchObject({ status: 403, message: "pods is forbidden x" });
    expect(failureOf(api(502, "<html>bad gateway</html>")).message).toBe("<html>bad gateway</html>");
    expect(failureOf(api(500, "")).message).toBe("HTTP 500");
  });

  it("reads Retry-After in seconds from the header, else from the Status details", () => {
    expect(failureOf(api(429, status("slow down"), { "retry-after": "3" })).retryAfterMs).toBe(3_000);
    expect(failureOf(api(503, status("busy", { details: { retryAfterSeconds: 2 } }))).retryAfterMs).toBe(
      2_000,
    );
    expect(failureOf(api(429, status("slow down"), { "retry-after": "soon" })).retryAfterMs).toBeUndefined();
  });

  it("reads a watch that would not start, and a network failure", () => {
    expect(failureOf(Object.assign(new Error("Service Unavailable"), { statusCode: 503 }))).toEqual({
      status: 503,
      message: "Service Unavailable",
    });
    expect(failureOf(network("ECONNRESET")).network).toBe("ECONNRESET");
    expect(failureOf({ cause: { code: "ECONNREFUSED" } }).network).toBe("ECONNREFUSED");
    expect(failureOf(new Error("socket hang up")).network).toBe("ECONNRESET");
  });
});

describe("what is retried", () => {
  it("5xx and 429 (with their Retry-After), not the other answers", () => {
    for (const code of [500, 502, 503, 504])
      expect(verdictOf({ status: code, message: "" }, true).retry).toBe(true);
    expect(verdictOf({ status: 429, message: "", retryAfterMs: 1_000 }, true)).toEqual({
      retry: true,
      retryAfterMs: 1_000,
    });
    for (const code of [400, 401, 403, 404, 409, 410, 422])
      expect(verdictOf({ status: code, message: "" }, true).retry).toBe(false);
  });

  it("a connection cut during a call; a refused one only once the server has answered", () => {
    for (const code of ["ECONNRESET", "EPIPE", "ETIMEDOUT"]) {
      expect(verdictOf({ network: code, message: "" }, false).retry).toBe(true);
    }
    expect(verdictOf({ network: "ECONNREFUSED", message: "" }, true).retry).toBe(true);
    expect(verdictOf({ network: "ECONNREFUSED", message: "" }, false).retry).toBe(false);
    expect(verdictOf({ network: "ENOTFOUND", message: "" }, true).retry).toBe(false);
    expect(verdictOf({ message: "Unrecognized API version and kind" }, true).retry).toBe(false);
  });
});

describe("the error the user sees", () => {
  it("401 and 403 are credentials errors (exit 4) naming the context", () => {
    const unauthorized = kubeError(api(401, status("Unauthorized")), where, "listing Node objects");
    expect(unauthorized).toBeInstanceOf(CredentialsError);
    expect((unauthorized as CredentialsError).exitCode).toBe(ExitCode.credentials);
    expect(unauthorized.message).toBe(
      "The cluster refused the credentials of context prod-admin (401) while listing Node objects.",
    );
    expect((unauthorized as CredentialsError).hint).toContain("aws eks update-kubeconfig");
    const forbidden = kubeError(api(403, status("nodes is forbidden")), where, "changing node n1");
    expect((forbidden as CredentialsError).hint).toContain("lacks permission");
    expect((forbidden as CredentialsError).hint).toContain("nodes is forbidden");
  });

  it("an answer is an operation error with the server's message; given-up retries say so", () => {
    const conflict = kubeError(
      api(409, status("conflict on .spec.replicas")),
      where,
      "applying Deployment x",
    );
    expect(conflict).toBeInstanceOf(OperationError);
    expect(conflict.message).toBe(
      "The Kubernetes API answered 409 while applying Deployment x: conflict on .spec.replicas",
    );
    expect((conflict.cause as KubeApiError).statusCode).toBe(409);
    const busy = kubeError(api(503, status("etcd leader changed")), where, "listing Pod objects", {
      attempts: 17,
      elapsedMs: 29_400,
      exhausted: true,
    });
    expect(busy.message).toBe(
      "The Kubernetes API answered 503 while listing Pod objects: etcd leader changed (still failing after 17 attempts in 29 s)",
    );
    expect((busy as OperationError).hint).toContain("CLOUDDROVE_API_RETRY_BUDGET");
  });

  it("an unreachable cluster is exit 4 naming the context and server", () => {
    const refused = kubeError(network("ECONNREFUSED"), where, "listing Node objects");
    expect(refused).toBeInstanceOf(CredentialsError);
    expect(refused.message).toBe(
      "The cluster of context prod-admin (https://k8s.example:6443) could not be reached while listing Node objects.",
    );
  });

  it("the project's own errors pass through; anything else is left as it is", () => {
    const usage = new UsageError("bad");
    expect(kubeError(usage, where, "x")).toBe(usage);
    const odd = new Error("Unrecognized API version and kind: v9 Thing");
    expect(kubeError(odd, where, "x")).toBe(odd);
  });
});
