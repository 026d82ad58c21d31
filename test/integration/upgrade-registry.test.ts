/**
 * `clouddrove upgrade --registry-version 3.0.0` on the sandbox, whose registry pods run the real registry
 * binaries (2.8.2, then Distribution v3.0.0 built by scripts/components.sh): one node, all nodes, and a failing health
 * gate undone with --rollback. The minimum of ready replicas is sampled by the test's own watcher on every
 * pod change, not taken from the command's report.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { injectProbeFailure } from "../../sandbox/src/index.js";
import { runCli } from "../support/run-cli.js";
import { NAMESPACE, report, useDeployedHarness } from "./upgrade-harness.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

const { harness: h, store } = useDeployedHarness("each");
const deployment = () => store().get("Deployment", NAMESPACE, "registry-clouddrove") as Any;
const container = () => deployment().spec.template.spec.containers[0];
const secretData = () =>
  ["registry-clouddrove-htpasswd", "registry-clouddrove-http-secret", "registry-clouddrove-pull"].map(
    (name) => store().get("Secret", NAMESPACE, name)?.data,
  );
const configText = () =>
  store().get("ConfigMap", NAMESPACE, "registry-clouddrove-config")?.data["config.yml"] as string;

function expectV3Everywhere() {
  const c = container();
  expect(c.image).toBe("registry:3.0.0");
  expect(c.args).toEqual(["serve", "/etc/distribution/config.yml"]);
  expect(c.volumeMounts.find((m: Any) => m.name === "config").mountPath).toBe("/etc/distribution");
  expect(c.env).toContainEqual({ name: "OTEL_TRACES_EXPORTER", value: "none" });
  expect(c.env).toContainEqual({
    name: "REGISTRY_HTTP_SECRET",
    valueFrom: { secretKeyRef: { name: "registry-clouddrove-http-secret", key: "http-secret" } },
  });
  const pods = h()
    .registryPods()
    .filter((p: Any) => !p.metadata.deletionTimestamp);
  expect(pods).toHaveLength(3);
  expect(pods.every((p: Any) => p.spec.containers[0].image === "registry:3.0.0")).toBe(true);
  // Served by Distribution 3.0.0 itself: every log line of the process names its version.
  const logs = (p: Any) => h().sbx.sandbox.runtime?.processes.logs(NAMESPACE, p.metadata.name) ?? "";
  expect(pods.map(logs).every((text: string) => text.includes("version=3.0.0"))).toBe(true);
  expect(new Set(pods.map((p: Any) => p.spec.nodeName)).size).toBe(3);
  expect(
    store()
      .list("Node")
      .every((n: Any) => !n.spec.unschedulable),
  ).toBe(true);
  expect(
    store()
      .list("Node")
      .every((n: Any) => n.metadata.annotations?.["clouddrove.io/upgrade-state"] === undefined),
  ).toBe(true);
}

const recordedVersion = () =>
  store().get("ConfigMap", NAMESPACE, "registry-clouddrove-version")?.data.registryVersion;

describe("upgrade --registry-version 3.0.0", () => {
  it("moves one node's window and the registry to 3.x with two replicas ready at every moment", async () => {
    const node = h().registryNode();
    const secretsBefore = secretData();
    const configBefore = configText();
    const ready = h().watchReady();
    const run = await h().upgrade(["--node", node, "--registry-version", "3.0.0", "--skip-backup"]);
    ready.stop();
    expect(run.code, run.stderr).toBe(0);
    expect(ready.samples()).toBeGreaterThan(10);
    expect(ready.min()).toBeGreaterThanOrEqual(2);

    const result = report(run.stdout);
    expect(result).toMatchObject({ ok: true, node, target: { registryVersion: "3.0.0" } });
    expect(result.availability.minReadyReplicas).toBeGreaterThanOrEqual(2);
    expect(result.availability.unavailableSeconds).toBe(0);
    expect(result.steps.map((s: Any) => s.status)).toEqual([
      "succeeded", // preflight
      "succeeded", // check image pushed
      "skipped", // backup (--skip-backup)
      "succeeded", // cordon
      "succeeded", // drain
      "succeeded", // bump
      "succeeded", // uncordon
      "succeeded", // health gate
      "succeeded", // old check images removed
      "succeeded", // recorded
    ]);
    expect(result.steps[7].detail).toContain("serve the image pushed before");
    expect(result.health.healthy).toBe(true);
    expect(run.stderr).toContain("no backup was taken (--skip-backup)");
    // No config file: the new version is recorded in the cluster, and status and deploy go by it.
    expect(run.stderr).toContain(
      `registry.version 3.0.0 is recorded in the cluster (ConfigMap ${NAMESPACE}/registry-clouddrove-version): status and deploy use it.`,
    );
    expect(run.stderr).not.toContain("moves the registry back");
    expect(recordedVersion()).toBe("3.0.0");

    expectV3Everywhere();
    // Same credentials and http secret; the same storage root and htpasswd path (nothing to migrate in
    // clouddrove's own config, so the text is unchanged).
    expect(secretData()).toEqual(secretsBefore);
    expect(configText()).toBe(configBefore);
    const state = JSON.parse(
      store().get("ConfigMap", NAMESPACE, "registry-clouddrove-upgrade")?.data["state.json"],
    );
    expect(state).toMatchObject({ outcome: "completed", progress: { [node]: "healthy" } });
    expect(state.registry.fingerprint.repositories).toBeGreaterThanOrEqual(0);
  });

  it("after the upgrade, status is healthy and deploy keeps 3.0.0; with a config file, --yes writes the version into it", async () => {
    const file = join(h().sbx.dir, "clouddrove.yaml");
    writeFileSync(file, '# the team\'s registry\nregistry:\n  # pinned by hand\n  version: "2.8.2"\n');
    const node = h().registryNode();
    const run = await h().upgrade(["--node", node, "--registry-version", "3.0.0", "--skip-backup"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`registry.version: 3.0.0 in ${file}`);
    expect(readFileSync(file, "utf8")).toBe(
      '# the team\'s registry\nregistry:\n  # pinned by hand\n  version: "3.0.0"\n',
    );

    const status = await runCli(["--kubeconfig", h().sbx.kubeconfigPath, "status"], {
      env: h().env,
      cwd: h().sbx.dir,
    });
    expect(status.code, status.stdout).toBe(0);
    expect(status.stdout).toContain("registry:3.0.0, 3/3 ready");
    // Without the file, the version recorded in the cluster is the one expected.
    rmSync(file);
    const noFile = await runCli(["--kubeconfig", h().sbx.kubeconfigPath, "status"], {
      env: h().env,
      cwd: h().sbx.dir,
    });
    expect(noFile.code, noFile.stdout).toBe(0);
    const deploy = await h().deploy();
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(container().image).toBe("registry:3.0.0");
  });

  it("--all-nodes upgrades the three nodes one at a time, each with the full health gate", async () => {
    const nodes = h().nodeNames();
    const ready = h().watchReady();
    const run = await h().upgrade(["--all-nodes", "--registry-version", "3.0.0", "--skip-backup"]);
    ready.stop();
    expect(run.code, run.stderr).toBe(0);
    expect(ready.min()).toBeGreaterThanOrEqual(2);
    const result = report(run.stdout);
    expect(result.nodes).toEqual(nodes);
    const titles: string[] = result.steps.map((s: Any) => s.title);
    for (const node of nodes) {
      const order = ["Cordoned", "Drained", "Upgraded", "Uncordoned", "Healthy after"].map((word) =>
        titles.findIndex((t) => t.startsWith(`${word} ${node}`)),
      );
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    }
    // One node at a time: a node is cordoned only after the previous node's health gate.
    const firstGate = titles.findIndex((t) => t.startsWith(`Healthy after ${nodes[0]}`));
    expect(titles.findIndex((t) => t.startsWith(`Cordoned ${nodes[1]}`))).toBeGreaterThan(firstGate);
    // The registry changes once; the later nodes find it at 3.0.0 already.
    expect(
      result.steps.filter((s: Any) => /registry:2\.8\.2 -> registry:3\.0\.0/.test(s.title)),
    ).toHaveLength(1);
    expectV3Everywhere();
  });

  it("a health gate that fails after the bump stops with the state, and --rollback restores 2.8.2", async () => {
    const node = h().registryNode();
    const configBefore = configText();
    // Every 3.0.0 replica fails its readiness probe: the rollout cannot complete.
    const unsubscribe = store().subscribe("Pod", (event: Any) => {
      const pod = event.object;
      if (event.type !== "ADDED" || pod.spec?.containers?.[0]?.image !== "registry:3.0.0") return;
      setImmediate(() => {
        try {
          injectProbeFailure(h().sbx.sandbox, NAMESPACE, pod.metadata.name, "registry", "readiness", true);
        } catch {
          // The pod may be gone already.
        }
      });
    });
    const ready = h().watchReady();
    const failed = await h().upgrade([
      "--node",
      node,
      "--registry-version",
      "3.0.0",
      "--skip-backup",
      "--health-timeout",
      "4s",
    ]);
    expect(failed.code).toBe(1);
    expect(report(failed.stdout).ok).toBe(false);
    expect(failed.stderr).toContain("The health gate after");
    expect(failed.stderr).toContain("registry: registry:3.0.0");
    expect(failed.stderr).toContain("clouddrove upgrade --rollback");
    expect(failed.stderr).toContain("clouddrove upgrade --resume");

    // A new upgrade refuses to start over the unfinished one (exit 2, nothing changed).
    const again = await h().upgrade(["--node", node, "--registry-version", "3.0.0", "--skip-backup"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("An earlier upgrade is unfinished");

    unsubscribe();
    const rollback = await h().upgrade(["--rollback"]);
    ready.stop();
    expect(rollback.code, rollback.stderr).toBe(0);
    const result = report(rollback.stdout);
    expect(result.steps[0].detail).toContain("no repository or tag was added or removed");
    expect(ready.min()).toBeGreaterThanOrEqual(2);
    const c = container();
    expect(c.image).toBe("registry:2.8.2");
    expect(c.args).toEqual(["serve", "/etc/docker/registry/config.yml"]);
    expect(c.volumeMounts.find((m: Any) => m.name === "config").mountPath).toBe("/etc/docker/registry");
    expect(configText()).toBe(configBefore);
    const pods = h()
      .registryPods()
      .filter((p: Any) => !p.metadata.deletionTimestamp);
    expect(pods.every((p: Any) => p.spec.containers[0].image === "registry:2.8.2")).toBe(true);
    expect(
      store()
        .list("Node")
        .every((n: Any) => !n.spec.unschedulable),
    ).toBe(true);
    const state = JSON.parse(
      store().get("ConfigMap", NAMESPACE, "registry-clouddrove-upgrade")?.data["state.json"],
    );
    expect(state.outcome).toBe("rolled-back");
    // The version the rollback left running is the recorded one.
    expect(recordedVersion()).toBe("2.8.2");
  });
});
