/**
 * `upgrade --resume` right after an interruption at the uncordon: the registry is still rolling out the
 * version the bump applied, so its disruption budget allows no disruption for a moment while a ready
 * replica runs on the node. The
 * resumed run waits for the registry's rollout (within the upgrade's health timeout, showing progress)
 * instead of refusing with "allows 0 disruptions ... relax the budget".
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHarness, type UpgradeHarness } from "./upgrade-harness.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

// Slower than the other upgrade tests: at their speed the rollout ends before a resumed run can look.
let harness: UpgradeHarness | undefined;
const h = () => harness as UpgradeHarness;
const store = () => h().sbx.sandbox.store;
beforeEach(async () => {
  harness = await startHarness({ speed: 30 });
  const deployed = await harness.deploy();
  expect(deployed.code, deployed.stderr).toBe(0);
});
afterEach(async () => {
  await harness?.stop();
});

describe("upgrade --resume while the registry is still rolling", () => {
  it("interrupted right after the uncordon, --resume waits for the rollout and finishes", async () => {
    const target = h().registryNode();
    const controller = new AbortController();
    // Stopped once the node's new replica is ready: the gate was waiting for the others.
    const unsubscribePods = store().subscribe("Pod", (event: Any) => {
      const pod = event.object;
      if (pod.spec?.nodeName !== target || !pod.spec.containers?.[0]?.image?.includes("3.0.0")) return;
      if ((pod.status?.conditions ?? []).some((c: Any) => c.type === "Ready" && c.status === "True"))
        controller.abort();
    });
    const interrupted = await h().upgrade(
      ["--node", target, "--registry-version", "3.0.0", "--skip-backup"],
      {
        signal: controller.signal,
      },
    );
    unsubscribePods();
    expect(interrupted.code, interrupted.stderr).toBe(130);
    const state = JSON.parse(
      (store().get("ConfigMap", "clouddrove", "registry-clouddrove-upgrade") as Any).data["state.json"],
    );
    // Stopped after the uncordon, in the health gate.
    expect(state.progress[target]).toBe("uncordoned");
    // The new version is still rolling out: the budget allows no disruption right now.
    const budget = store().list("PodDisruptionBudget", { namespace: "clouddrove" })[0] as Any;
    expect(budget.status.disruptionsAllowed).toBe(0);
    const replicaOnNode = h()
      .registryPods()
      .find((p: Any) => p.spec.nodeName === target);
    expect(replicaOnNode.status.conditions).toContainEqual(
      expect.objectContaining({ type: "Ready", status: "True" }),
    );

    const resumed = await h().upgrade(["--resume"]);
    expect(resumed.stderr).not.toContain("relax the budget");
    expect(resumed.code, resumed.stderr).toBe(0);
    const preflight = (JSON.parse(resumed.stdout).steps as Array<{ title: string; status: string }>)[0];
    expect(preflight?.status).toBe("succeeded");
    expect(
      JSON.parse(
        (store().get("ConfigMap", "clouddrove", "registry-clouddrove-upgrade") as Any).data["state.json"],
      ).outcome,
    ).toBe("completed");
    expect(store().get("Node", undefined, target)?.spec.unschedulable).toBeUndefined();
  });
});
