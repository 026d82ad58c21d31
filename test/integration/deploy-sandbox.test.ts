/**
 * `clouddrove deploy` and `status` against the sandbox, as a user runs them (in-process CLI, kubeconfig
 * pointing at a sandbox the test started, so the test can break things and inject faults).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { cleanEnv, runCli } from "../support/run-cli.js";

let sbx: TestSandbox;
const PASSWORD = "correct-horse-battery-staple";
const EFS = ["--efs-file-system-id", "fs-0123456789abcdef0"];

beforeEach(async () => {
  sbx = await startTestSandbox({ controllers: true, speed: 200 });
});
afterEach(async () => {
  await sbx.stop();
});

function deploy(extra: string[] = [], env: NodeJS.ProcessEnv = {}, signal?: AbortSignal) {
  return runCli(
    [
      "--kubeconfig",
      sbx.kubeconfigPath,
      "-o",
      "json",
      "deploy",
      "--yes",
      "--no-smoke-test",
      ...EFS,
      ...extra,
    ],
    {
      env: cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD, ...env }),
      signal,
    },
  );
}

function status(extra: string[] = []) {
  return runCli(["--kubeconfig", sbx.kubeconfigPath, "-o", "json", "status", ...extra], {
    env: cleanEnv({ CI: "true" }),
  });
}

const actions = (stdout: string) =>
  Object.fromEntries(
    (JSON.parse(stdout).objects as Array<{ kind: string; name: string; action: string }>).map((o) => [
      `${o.kind}/${o.name}`,
      o.action,
    ]),
  );

describe("deploy on the sandbox", () => {
  it("a fresh deploy reaches healthy; a second one changes nothing", async () => {
    const first = await deploy();
    expect(first.stderr).not.toContain("Error");
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.ok).toBe(true);
    // No bucket is configured here: deploy says that backups are off.
    expect(first.stderr).toContain("backups are off: no backup bucket is configured");
    expect(Object.values(actions(first.stdout)).every((a) => a === "created")).toBe(true);
    // The apply step's count leaves out the pull Secret, the server certificate's Secret and the
    // Deployment, written once the load balancer's address is known, and says so.
    const objects = Object.keys(actions(first.stdout)).length;
    expect(report.steps[1].title).toBe(
      `Apply the registry objects: ${objects - 3} created; the pull Secret, the server certificate and the Deployment wait for the load balancer's address`,
    );
    // The sandbox's load balancer is a real TCP proxy on loopback in front of the registry processes.
    expect(report.registry.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(
      report.steps.map((s: { title: string; status: string }) => [s.title.split(":")[0], s.status]),
    ).toEqual([
      ["Check the cluster", "succeeded"],
      ["Apply the registry objects", "succeeded"],
      ["Prune", "succeeded"],
      ["Volume claim registry-clouddrove-data is Bound", "succeeded"],
      ["Load balancer", "succeeded"],
      // The server certificate names the load balancer's address, known only now: issued again.
      [
        expect.stringMatching(
          /^Server certificate issued for registry-clouddrove\.clouddrove\.svc, registry-clouddrove\.clouddrove\.svc\.cluster\.local, 127\.0\.0\.1, valid until \d{4}-\d\d-\d\d$/,
        ),
        "succeeded",
      ],
      ["Registry rolled out", "succeeded"],
      // The nodes are told to trust the CA for the load balancer's address (node-trust DaemonSet).
      ["Nodes trust the registry's CA", "succeeded"],
      // The first deploy learns the load balancer's address only now: the pull Secret is written again.
      ["The pull Secret registry-clouddrove-pull names 127.0.0.1", "succeeded"],
      ["Smoke test", "skipped"],
    ]);
    const pull = sbx.sandbox.store.get("Secret", "clouddrove", "registry-clouddrove-pull");
    const auths = JSON.parse(Buffer.from(pull?.data[".dockerconfigjson"], "base64").toString("utf8")).auths;
    expect(Object.keys(auths)).toEqual(["registry-clouddrove.clouddrove.svc:5000", report.registry.address]);

    const healthy = await status();
    expect(healthy.code).toBe(0);
    const health = JSON.parse(healthy.stdout);
    expect(health.healthy).toBe(true);
    // A warning, not a problem: healthy, exit 0, and said in text and JSON.
    expect(health.warnings).toEqual([
      expect.stringMatching(/^backups are off: no backup bucket is configured/),
    ]);
    const healthyText = await runCli(["--kubeconfig", sbx.kubeconfigPath, "status"], {
      env: cleanEnv({ CI: "true" }),
    });
    expect(healthyText.code).toBe(0);
    expect(healthyText.stdout).toMatch(/Warnings:\n {2}- backups are off: no backup bucket is configured/);
    expect(new Set(health.registry.pods.map((p: { zone: string }) => p.zone)).size).toBe(3);
    expect(new Set(health.registry.pods.map((p: { node: string }) => p.node)).size).toBe(3);

    const before = sbx.sandbox.store.resourceVersion;
    const second = await deploy();
    expect(second.code).toBe(0);
    expect(new Set(Object.values(actions(second.stdout)))).toEqual(new Set(["unchanged"]));
    // Nothing was written: the store's resourceVersion did not move for any object clouddrove owns.
    const deployment = sbx.sandbox.store.get("Deployment", "clouddrove", "registry-clouddrove");
    expect(Number(deployment?.metadata.resourceVersion)).toBeLessThanOrEqual(Number(before));
  });

  it("reuses the stored credentials instead of rotating them", async () => {
    expect((await deploy()).code).toBe(0);
    const secret = sbx.sandbox.store.get("Secret", "clouddrove", "registry-clouddrove-http-secret");
    const again = await deploy([], { CLOUDDROVE_REGISTRY_PASSWORD: "another-password-entirely" });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("differs from the password stored in the cluster");
    expect(sbx.sandbox.store.get("Secret", "clouddrove", "registry-clouddrove-http-secret")?.data).toEqual(
      secret?.data,
    );
    const rotated = await deploy(["--rotate-credentials"], {
      CLOUDDROVE_REGISTRY_PASSWORD: "another-password-entirely",
    });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(actions(rotated.stdout)["Secret/registry-clouddrove-pull"]).toBe("configured");
    expect(actions(rotated.stdout)["Secret/registry-clouddrove-htpasswd"]).toBe("configured");
    // http.secret stays: old and new replicas serve side by side during the rotation's rollouts.
    expect(actions(rotated.stdout)["Secret/registry-clouddrove-http-secret"]).toBe("unchanged");
  });

  it("a changed setting changes only what it should", async () => {
    expect((await deploy()).code).toBe(0);
    const changed = await deploy(["--memory-limit", "3Gi"]);
    expect(changed.code).toBe(0);
    const changes = Object.entries(actions(changed.stdout)).filter(([, a]) => a !== "unchanged");
    expect(changes, JSON.stringify(changes)).toEqual([["Deployment/registry-clouddrove", "configured"]]);
    const deployment = sbx.sandbox.store.get("Deployment", "clouddrove", "registry-clouddrove");
    expect(deployment?.spec.template.spec.containers[0].resources.limits.memory).toBe("3Gi");
  });

  it("fails preflight with 2 schedulable nodes, changing nothing; --force deploys anyway", async () => {
    const node = sbx.sandbox.store.list("Node")[0];
    const cordon = await sbx.kubectl("cordon", node?.metadata.name ?? "");
    expect(cordon.exitCode).toBe(0);
    const refused = await deploy();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("3 replicas need 3 schedulable nodes in 3 distinct zones");
    expect(refused.stderr).toContain("--force");
    expect(sbx.sandbox.store.get("Namespace", undefined, "clouddrove")).toBeUndefined();
    const forced = await deploy(["--force", "--timeout", "5s"]);
    // Forced, the third replica stays Pending and the rollout times out, saying why.
    expect(forced.code).toBe(1);
    // The scheduler names the first filter that rejects each node: the zone spread or the anti-affinity.
    expect(forced.stderr).toMatch(
      /1 node\(s\) were unschedulable, 2 node\(s\) didn't match pod (topology spread constraints|anti-affinity rules)/,
    );
  });

  it("two first deploys at once: the namespace is made once, one deploys under the lock, the other is refused naming it", async () => {
    expect(sbx.sandbox.store.get("Namespace", undefined, "clouddrove")).toBeUndefined();
    const runs = await Promise.all([deploy(), deploy()]);
    const codes = runs.map((r) => r.code).sort();
    expect(codes, runs.map((r) => r.stderr).join("\n---\n")).toEqual([0, 2]);
    const refused = runs.find((r) => r.code === 2) as (typeof runs)[number];
    const winner = runs.find((r) => r.code === 0) as (typeof runs)[number];
    expect(refused.stderr).toContain(
      "Another clouddrove run is changing the registry in namespace clouddrove",
    );
    expect(refused.stderr).toContain("running `clouddrove deploy` since");
    expect(refused.stderr).toContain("--wait-for-lock");
    // The winner made the namespace (to hold the lock in) and reports it created, like every object.
    expect(actions(winner.stdout)["Namespace/clouddrove"]).toBe("created");
    expect(sbx.sandbox.store.get("Lease", "clouddrove", "registry-clouddrove-lock")).toBeUndefined();
    // With a wait, a second deploy takes the lock once the first frees it.
    const [first, second] = await Promise.all([deploy(), deploy(["--wait-for-lock", "5m"])]);
    expect([first.code, second.code], `${first.stderr}\n---\n${second.stderr}`).toEqual([0, 0]);
  });

  it("survives injected API faults (5xx bursts, 429s, connection resets, latency)", async () => {
    sbx.sandbox.faults.latencyMs = 20;
    sbx.sandbox.faults.add({ verbs: ["patch"], action: { type: "error", status: 503 }, times: 3 });
    sbx.sandbox.faults.add({
      verbs: ["list"],
      action: { type: "error", status: 429, retryAfterSeconds: 0 },
      times: 2,
    });
    sbx.sandbox.faults.add({ verbs: ["get"], action: { type: "reset" }, times: 2 });
    const run = await deploy();
    expect(run.stderr).not.toContain("Error:");
    expect(run.code).toBe(0);
    // A rule is dropped once it has hit its `times`: every fault really happened.
    expect(sbx.sandbox.faults.state().rules).toEqual([]);
    expect((await status()).code).toBe(0);
  });

  it("survives watches cut mid-way while it waits for the rollout", async () => {
    // Slow enough (15 s readiness delay = 3 s) that the rollout wait really watches.
    await sbx.stop();
    sbx = await startTestSandbox({ controllers: true, speed: 5 });
    sbx.sandbox.faults.add({ verbs: ["watch"], action: { type: "cutWatch", afterMs: 200 }, times: 3 });
    const run = await deploy();
    expect(run.stderr).not.toContain("Error:");
    expect(run.code).toBe(0);
    expect(sbx.sandbox.faults.state().rules).toEqual([]);
  });

  it("finishes while every watch is cut after 3 events", async () => {
    await sbx.stop();
    sbx = await startTestSandbox({ controllers: true, speed: 1000 });
    sbx.sandbox.faults.add({ verbs: ["watch"], action: { type: "cutWatch", afterEvents: 3, mode: "reset" } });
    const run = await deploy(["--timeout", "60s"]);
    expect(run.stderr).not.toContain("Error:");
    expect(run.code).toBe(0);
  });

  it("deploys Distribution 3 when configured, and refuses to move it back to 2.x", async () => {
    expect((await deploy()).code).toBe(0);
    const v3 = await deploy(["--registry-version", "3.0.0"]);
    expect(v3.code).toBe(0);
    const deployment = sbx.sandbox.store.get("Deployment", "clouddrove", "registry-clouddrove");
    expect(deployment?.spec.template.spec.containers[0].args).toEqual([
      "serve",
      "/etc/distribution/config.yml",
    ]);
    const back = await deploy();
    expect(back.code).toBe(2);
    expect(back.stderr).toContain("forward-only");
    expect(back.stderr).toContain("--registry-version");
    const after = sbx.sandbox.store.get("Deployment", "clouddrove", "registry-clouddrove");
    expect(after?.spec.template.spec.containers[0].image).toBe("registry:3.0.0");
  });

  it("reports a conflict with another field manager; --force-conflicts takes over", async () => {
    expect((await deploy()).code).toBe(0);
    const manifest = JSON.stringify({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "registry-clouddrove", namespace: "clouddrove" },
      spec: { replicas: 4 },
    });
    const { writeFileSync } = await import("node:fs");
    const file = `${sbx.dir}/replicas.json`;
    writeFileSync(file, manifest);
    const taken = await sbx.kubectl(
      "apply",
      "--server-side",
      "--force-conflicts",
      "--field-manager",
      "hand-edit",
      "-f",
      file,
    );
    expect(taken.exitCode).toBe(0);
    const conflict = await deploy();
    expect(conflict.code).toBe(1);
    // Named before the first write, then the conflict itself.
    expect(conflict.stderr).toContain("Deployment/registry-clouddrove is also managed by hand-edit");
    expect(conflict.stderr).toContain("hand-edit");
    expect(conflict.stderr).toContain(".spec.replicas");
    expect(conflict.stderr).toContain("--force-conflicts");
    const forced = await deploy(["--force-conflicts"]);
    expect(forced.code).toBe(0);
    expect(sbx.sandbox.store.get("Deployment", "clouddrove", "registry-clouddrove")?.spec.replicas).toBe(3);
  });

  it("an interrupted deploy is completed by a re-run", async () => {
    const controller = new AbortController();
    // Ctrl-C as soon as the Deployment exists (the apply is under way or just done).
    const unsubscribe = sbx.sandbox.store.subscribe("Deployment", (event) => {
      if (event.object.metadata.namespace === "clouddrove") controller.abort();
    });
    const interrupted = await deploy([], {}, controller.signal);
    unsubscribe();
    expect(interrupted.code).toBe(130);
    // Stopped while the Deployment was being written: on a first deploy that is the server certificate's
    // step (the Deployment waits for the certificate that names the load balancer). Ctrl-C does not wait
    // for a call to finish, so this is a real mid-deploy interruption.
    expect(interrupted.stderr).toContain(
      `Error: Interrupted during "Server certificate for the load balancer's address".`,
    );
    // The pull Secret keeps the password: written even though the first deploy stopped early.
    const pull = sbx.sandbox.store.get("Secret", "clouddrove", "registry-clouddrove-pull");
    const password = (secret: typeof pull) =>
      Object.values(
        JSON.parse(Buffer.from(secret?.data[".dockerconfigjson"], "base64").toString("utf8")).auths,
      ).map((a) => (a as { password: string }).password);
    expect(password(pull)).toEqual([PASSWORD]);
    const rerun = await deploy([], { CLOUDDROVE_REGISTRY_PASSWORD: "not-the-stored-password" });
    expect(rerun.code).toBe(0);
    expect(password(sbx.sandbox.store.get("Secret", "clouddrove", "registry-clouddrove-pull"))).toEqual([
      PASSWORD,
      PASSWORD,
    ]);
    expect((await status()).code).toBe(0);
  });

  it("--dry-run=server and --diff change nothing", async () => {
    expect((await deploy()).code).toBe(0);
    const before = sbx.sandbox.store.resourceVersion;
    const diff = await runCli(
      ["--kubeconfig", sbx.kubeconfigPath, "deploy", "--diff", ...EFS, "--memory-limit", "4Gi"],
      { env: cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD }) },
    );
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain("-              memory: 2Gi");
    expect(diff.stdout).toContain("+              memory: 4Gi");
    const server = await deploy(["--dry-run=server", "--replicas", "2"]);
    expect(server.code).toBe(0);
    expect(actions(server.stdout)["Deployment/registry-clouddrove"]).toBe("configured");
    expect(sbx.sandbox.store.get("Deployment", "clouddrove", "registry-clouddrove")?.spec.replicas).toBe(3);
    expect(Number(sbx.sandbox.store.resourceVersion)).toBeGreaterThanOrEqual(Number(before));
    expect(sbx.sandbox.store.list("ConfigMap", { namespace: "clouddrove" }).length).toBeGreaterThan(0);
  });

  it("prunes an object it applied earlier and no longer renders, never the claim", async () => {
    expect((await deploy()).code).toBe(0);
    sbx.sandbox.store.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "leftover",
        namespace: "clouddrove",
        labels: { "app.kubernetes.io/managed-by": "clouddrove" },
      },
      data: {},
    });
    const run = await deploy();
    expect(run.code).toBe(0);
    expect(actions(run.stdout)["ConfigMap/leftover"]).toBe("pruned");
    expect(sbx.sandbox.store.get("ConfigMap", "clouddrove", "leftover")).toBeUndefined();
    expect(
      sbx.sandbox.store.get("PersistentVolumeClaim", "clouddrove", "registry-clouddrove-data"),
    ).toBeDefined();
  });
});

describe("status on the sandbox", () => {
  it("reports each kind of problem, exit 1", async () => {
    expect((await deploy()).code).toBe(0);
    const node = sbx.sandbox.store.list("Node")[1]?.metadata.name ?? "";
    expect((await sbx.kubectl("cordon", node)).exitCode).toBe(0);
    const pod = sbx.sandbox.store
      .list("Pod", { namespace: "clouddrove" })
      .find((p) => p.spec.nodeName === node);
    expect((await sbx.kubectl("delete", "pod", "-n", "clouddrove", pod?.metadata.name ?? "")).exitCode).toBe(
      0,
    );
    const run = await status();
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.healthy).toBe(false);
    const problems = report.problems.join("\n");
    expect(problems).toContain(`node ${node} is cordoned (unschedulable)`);
    expect(problems).toMatch(
      /2\/3 replicas ready.*Pending: 0\/3 nodes are available: 1 node\(s\) were unschedulable, 2 node\(s\) didn't match pod (topology spread constraints|anti-affinity rules)/,
    );
    const text = await runCli(["--kubeconfig", sbx.kubeconfigPath, "status"], {
      env: cleanEnv({ CI: "true" }),
    });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("Unhealthy");
  });

  it("exit 4 naming the context when the cluster cannot be reached", async () => {
    const kubeconfig = sbx.kubeconfigPath;
    await sbx.sandbox.stop();
    const run = await runCli(["--kubeconfig", kubeconfig, "status"], { env: cleanEnv({ CI: "true" }) });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("clouddrove-sandbox");
  });
});
