/**
 * The request path of src/adapters/kube.ts under the sandbox's fault injector, through the commands that
 * use it: `deploy` succeeds with 30% of requests answered 503 and with half of them answered 429; one 503
 * on API discovery is retried, not reported as a kind the cluster lacks; `status` under persistent 500s
 * fails with the API's error and no MaxListenersExceededWarning.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { cleanEnv, runCli } from "../support/run-cli.js";

let sbx: TestSandbox;

beforeEach(async () => {
  sbx = await startTestSandbox({ controllers: true, speed: 200 });
});
afterEach(async () => {
  await sbx.stop();
});

function run(command: string[], env: NodeJS.ProcessEnv = {}) {
  return runCli(["--kubeconfig", sbx.kubeconfigPath, "-o", "json", ...command], {
    env: cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: "correct-horse-battery-staple", ...env }),
  });
}

const deploy = () =>
  run(["deploy", "--yes", "--no-smoke-test", "--efs-file-system-id", "fs-0123456789abcdef0"]);

/** Deploys with `rule` on every request, then checks the registry is healthy with the faults gone. */
async function deployDespite(
  action: { type: "error"; status: number; retryAfterSeconds?: number },
  probability: number,
) {
  const rule = sbx.sandbox.faults.add({ verbs: ["*"], action, probability });
  const requestsBefore = sbx.sandbox.faults.state().requests;
  const result = await deploy();
  const state = sbx.sandbox.faults.state();
  const hits = state.rules.find((r) => r.id === rule.id)?.hits ?? 0;
  sbx.sandbox.faults.clear();
  return { result, hits, requests: state.requests - requestsBefore };
}

describe("deploy through a failing API server", () => {
  it("succeeds when 30% of requests are answered 503", async () => {
    const { result, hits, requests } = await deployDespite({ type: "error", status: 503 }, 0.3);
    expect(result.stderr).not.toContain("Error:");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).ok).toBe(true);
    // The faults really happened, many times over.
    expect(hits).toBeGreaterThan(5);
    expect(hits).toBeLessThan(requests);
    const health = await run(["status"]);
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout).healthy).toBe(true);
  });

  it("succeeds when half of the requests are answered 429 with Retry-After: 1", async () => {
    const { result, hits } = await deployDespite({ type: "error", status: 429, retryAfterSeconds: 1 }, 0.5);
    expect(result.stderr).not.toContain("Error:");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).ok).toBe(true);
    expect(hits).toBeGreaterThan(5);
    expect((await run(["status"])).code).toBe(0);
    // Every 429 is a pause of at least a second (Retry-After): some forty of them, many one after another.
  }, 180_000);

  it("takes one 503 on the discovery of policy/v1 for a failure to retry, not for a missing kind", async () => {
    sbx.sandbox.faults.add({
      verbs: ["get"],
      path: "^/apis/policy/v1$",
      action: { type: "error", status: 503 },
      times: 1,
    });
    const result = await deploy();
    expect(result.stderr).not.toContain("does not serve");
    expect(result.code).toBe(0);
    // The rule was spent: discovery of policy/v1 was answered 503 once.
    expect(sbx.sandbox.faults.state().rules).toEqual([]);
  });
});

describe("status through an API server that keeps failing", () => {
  it("fails with the API's error once each call's budget is spent, without a MaxListenersExceededWarning", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    sbx.sandbox.faults.add({ verbs: ["*"], action: { type: "error", status: 500 } });
    try {
      // Eleven reads go out at once and all pause between their retries, on the command's signal.
      const result = await run(["status"], { CLOUDDROVE_API_RETRY_BUDGET: "3s" });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /Error: The Kubernetes API answered 500 while .*\(still failing after \d+ attempts in \d+ s\)/,
      );
      // -o json: one document on stdout, the failure in it.
      const document = JSON.parse(result.stdout);
      expect(document.ok).toBe(false);
      expect(document.error.code).toBe("failed");
      expect(document.error.message).toMatch(/^The Kubernetes API answered 500 while /);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message)).toEqual(
      [],
    );
  });
});
