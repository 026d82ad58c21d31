/**
 * `clouddrove upgrade --node X --upgrade-command CMD` on the sandbox: what stops before the node is
 * cordoned (a budget with no disruption left, a pod no controller recreates), what a drain that times out
 * leaves and how --resume finishes it, API faults during the drain, --dry-run, and the refusals that exit 2.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NAMESPACE, report, useDeployedHarness } from "./upgrade-harness.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

const { harness: h, store } = useDeployedHarness("each");
const node = (name: string) => store().get("Node", undefined, name) as Any;
const stateMap = () => store().get("ConfigMap", NAMESPACE, "registry-clouddrove-upgrade") as Any;
/** A command that records each run's NODE in a file, so a test sees how often and where it ran. */
const recorder = () => {
  const file = join(h().sbx.dir, "upgraded.txt");
  return {
    command: `echo "$NODE" >> ${file}`,
    runs: () => (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n") : []),
  };
};

/** Waits (test-side) until `done` holds for the store; the controllers run on the sandbox's clock. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!done()) throw new Error(`never happened: ${what}`);
}

describe("upgrade: drain rules and recovery", () => {
  it("stops before cordoning when a disruption budget allows no disruption, naming it", async () => {
    const target = h().registryNode();
    store().create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "pinned", namespace: "default" },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "pinned" } },
        template: {
          metadata: { labels: { app: "pinned" } },
          spec: {
            nodeSelector: { "kubernetes.io/hostname": target },
            containers: [{ name: "app", image: "nginx:1.27" }],
          },
        },
      },
    });
    store().create({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "pinned", namespace: "default" },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "pinned" } } },
    });
    await until(
      () => store().get("PodDisruptionBudget", "default", "pinned")?.status?.currentHealthy === 1,
      "pinned ready",
    );
    const { command, runs } = recorder();
    const run = await h().upgrade(["--node", target, "--upgrade-command", command]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("PodDisruptionBudget default/pinned allows 0 disruptions");
    expect(run.stderr).toContain("nothing was changed");
    expect(node(target).spec.unschedulable).toBeUndefined();
    expect(stateMap()).toBeUndefined();
    expect(runs()).toEqual([]);
    expect(report(run.stdout).steps[0].status).toBe("failed");
  });

  it("a pod without a controller blocks the drain unless --force", async () => {
    const target = h().registryNode();
    store().create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "hand-made", namespace: "default" },
      spec: { nodeName: target, containers: [{ name: "app", image: "busybox:1.36" }] },
    });
    const { command, runs } = recorder();
    const blocked = await h().upgrade(["--node", target, "--upgrade-command", command]);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain("default/hand-made: not managed by a controller");
    expect(blocked.stderr).toContain("(--force to evict it anyway)");
    expect(node(target).spec.unschedulable).toBeUndefined();

    const ready = h().watchReady();
    const forced = await h().upgrade(["--node", target, "--upgrade-command", command, "--force"]);
    ready.stop();
    expect(forced.code, forced.stderr).toBe(0);
    expect(store().get("Pod", "default", "hand-made")).toBeUndefined();
    expect(runs()).toEqual([target]);
    expect(ready.min()).toBeGreaterThanOrEqual(2);
    expect(node(target).spec.unschedulable).toBeUndefined();
  });

  it("a drain that times out leaves the node cordoned with a clear state, and --resume finishes", async () => {
    const target = h().registryNode();
    const rule = h().sbx.sandbox.faults.add({
      verbs: ["create"],
      path: "/pods/[^/]+/eviction$",
      action: {
        type: "error",
        status: 429,
        message: "Cannot evict pod as it would violate the pod's disruption budget.",
      },
    });
    const { command, runs } = recorder();
    const failed = await h().upgrade(["--node", target, "--upgrade-command", command, "--timeout", "2s"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/Draining .* did not finish within 2s/);
    expect(failed.stderr).toContain(`node ${target} is CORDONED`);
    expect(failed.stderr).toContain("clouddrove upgrade --resume");
    expect(node(target).spec.unschedulable).toBe(true);
    expect(node(target).metadata.annotations["clouddrove.io/upgrade-state"]).toMatch(/^failed at Drain/);
    const state = JSON.parse(stateMap().data["state.json"]);
    expect(state).toMatchObject({ outcome: "failed", progress: { [target]: "cordoned" } });
    expect(runs()).toEqual([]);

    h().sbx.sandbox.faults.clear(rule.id);
    const ready = h().watchReady();
    const resumed = await h().upgrade(["--resume"]);
    ready.stop();
    expect(resumed.code, resumed.stderr).toBe(0);
    const result = report(resumed.stdout);
    expect(result.steps.find((s: Any) => s.title.startsWith(`Cordon ${target}`))?.status).toBe("skipped");
    expect(node(target).spec.unschedulable).toBeUndefined();
    expect(node(target).metadata.annotations?.["clouddrove.io/upgrade-state"]).toBeUndefined();
    expect(runs()).toEqual([target]);
    expect(ready.min()).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(stateMap().data["state.json"]).outcome).toBe("completed");
  });

  it("a node PATCH that keeps failing during the drain: the state is read and said first, and --resume continues", async () => {
    const target = h().registryNode();
    const faults = h().sbx.sandbox.faults;
    let rule: { id: string } | undefined;
    const unsubscribe = store().subscribe("Node", (event: Any) => {
      if (!rule && event.object.metadata.name === target && event.object.spec.unschedulable) {
        rule = faults.add({ verbs: ["patch"], path: "/nodes/", action: { type: "error", status: 500 } });
      }
    });
    const failed = await h().upgrade(["--node", target, "--upgrade-command", "true"], {
      env: { CLOUDDROVE_API_RETRY_BUDGET: "1s" },
    });
    unsubscribe();
    if (rule) faults.clear(rule.id);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`node ${target} is CORDONED`);
    expect(failed.stderr).toMatch(/registry: registry:2\.8\.2, \d\/3 replicas ready/);
    expect(failed.stderr).toContain("the node's annotation clouddrove.io/upgrade-state could not be written");
    expect(failed.stderr).toContain("clouddrove upgrade --resume --kubeconfig");
    expect(failed.stderr).not.toContain("could not be read");
    expect(failed.stderr).not.toMatch(/run the same command again/i);
    expect(node(target).spec.unschedulable).toBe(true);

    const resumed = await h().upgrade(["--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(node(target).spec.unschedulable).toBeUndefined();
  });

  it("survives API faults during the drain (429, 5xx, resets, and cut watches when it watches)", async () => {
    const target = h().registryNode();
    const faults = h().sbx.sandbox.faults;
    faults.add({ verbs: ["create"], path: "/eviction$", action: { type: "error", status: 429 }, times: 2 });
    faults.add({ verbs: ["create"], path: "/eviction$", action: { type: "error", status: 503 }, times: 2 });
    faults.add({ verbs: ["patch"], path: "/nodes/", action: { type: "error", status: 500 }, times: 1 });
    faults.add({ verbs: ["list"], path: "/pods$", action: { type: "reset" }, times: 1 });
    faults.add({ verbs: ["watch"], path: "/pods$", action: { type: "cutWatch", afterEvents: 1 }, times: 2 });
    const { command, runs } = recorder();
    const run = await h().upgrade(["--node", target, "--upgrade-command", command]);
    expect(run.code, run.stderr).toBe(0);
    // Every error and reset rule was spent: each of those faults really happened during the run. (Whether
    // the wait needed a watch at all depends on timing; upgrade-drain-adapter.test.ts proves cut watches.)
    expect(faults.state().rules.filter((r) => r.action.type !== "cutWatch")).toEqual([]);
    expect(runs()).toEqual([target]);
    expect(node(target).spec.unschedulable).toBeUndefined();
  });

  it("--dry-run prints the rehearsal and the equivalent commands and changes nothing", async () => {
    const target = h().registryNode();
    const before = store().resourceVersion;
    const run = await h().upgrade(["--node", target, "--registry-version", "3.0.0", "--dry-run"], {
      json: false,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /will stay Pending until .* is schedulable again \(uncordon\): anti-affinity, 2 other nodes taken/,
    );
    expect(run.stdout).toContain(`kubectl cordon ${target}`);
    expect(run.stdout).toContain(`kubectl drain ${target} --ignore-daemonsets --timeout=600s`);
    expect(run.stdout).toContain(
      '"path":"/spec/template/spec/containers/0/args","value":["serve","/etc/distribution/config.yml"]',
    );
    expect(run.stdout).toContain(`kubectl uncordon ${target}`);
    expect(run.stdout).toContain("Dry run: nothing was changed.");
    // Reads only: no object was written (the watcher and the check image are not part of a dry run).
    expect(store().resourceVersion).toBe(before);
  });

  it("refuses with exit 2 before anything changes: no target, no node, a newer kubelet, a downgrade, two bumps", async () => {
    const target = h().registryNode();
    const noTarget = await h().upgrade(["--node", target]);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain("--registry-version V");
    expect(noTarget.stderr).toContain("--kubernetes-version V");
    expect(noTarget.stderr).toContain("--upgrade-command CMD");

    const noNode = await h().upgrade(["--registry-version", "3.0.0"]);
    expect(noNode.code).toBe(2);
    expect(noNode.stderr).toContain(target);

    const newer = await h().upgrade(["--node", target, "--kubernetes-version", "1.34"]);
    expect(newer.code).toBe(2);
    expect(newer.stderr).toContain("may not be newer than the control plane");

    const downgrade = await h().upgrade(["--node", target, "--kubernetes-version", "1.31"]);
    expect(downgrade.code).toBe(2);
    expect(downgrade.stderr).toContain("downgrade");

    const both = await h().upgrade([
      "--node",
      target,
      "--kubernetes-version",
      "1.33",
      "--upgrade-command",
      "true",
    ]);
    expect(both.code).toBe(2);
    expect(node(target).spec.unschedulable).toBeUndefined();
    expect(stateMap()).toBeUndefined();
  });
});
