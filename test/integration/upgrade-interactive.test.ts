/**
 * `clouddrove upgrade` at a terminal (it asks which node and what to change, before the task list),
 * Ctrl-C in the middle of a drain (exit 130, the node's state said, --rollback uncordons), and the backup
 * Job taken from the backup CronJob before the forward-only registry 2 -> 3 upgrade.
 */
import { describe, expect, it } from "vitest";
import { cleanEnv, runCli } from "../support/run-cli.js";
import { ScriptedPrompter } from "../support/scripted-prompter.js";
import { NAMESPACE, PASSWORD, report, useDeployedHarness } from "./upgrade-harness.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

const { harness: h, store } = useDeployedHarness("all");

describe("upgrade at a terminal, interrupted, and with a backup", () => {
  it("asks which node and what to change when neither is given", async () => {
    const target = h().registryNode();
    const prompter = new ScriptedPrompter([target, "upgradeCommand", 'test -n "$NODE"', true]);
    const run = await runCli(["--kubeconfig", h().sbx.kubeconfigPath, "upgrade", "--no-registry-check"], {
      env: cleanEnv({ CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD }),
      cwd: h().sbx.dir,
      tty: true,
      prompter,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(prompter.asked.map((q) => q.kind)).toEqual(["select", "select", "input", "confirm"]);
    // What it will do is shown before the question, whose default is no.
    expect(prompter.asked[3]).toMatchObject({ message: "Go ahead?", default: false });
    expect(run.stderr).toContain(`Upgrading node ${target}:`);
    expect(run.stderr).toContain(`  - cordon and drain node ${target}`);
    expect(prompter.asked[0]?.choices).toContain(target);
    expect(prompter.asked[0]?.choices?.at(-1)).toBe("--all-nodes");
    expect(run.stdout).toContain(`Upgraded node ${target}`);
  });

  it("without a terminal and without --yes, a new upgrade exits 2 naming --yes and changes nothing", async () => {
    const target = h().registryNode();
    const recorded = () => store().get("ConfigMap", NAMESPACE, "registry-clouddrove-upgrade")?.data;
    const before = recorded();
    const run = await h().upgrade(["--node", target, "--upgrade-command", "true"], { yes: false });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`Upgrading node ${target} needs a confirmation; nothing was changed.`);
    expect(run.stderr).toContain("Hint: Pass --yes to go ahead without a prompt");
    expect(store().get("Node", undefined, target)?.spec.unschedulable).toBeUndefined();
    expect(recorded()).toEqual(before);
  });

  it("at a terminal, Enter at 'Go ahead?' (no) changes nothing", async () => {
    const target = h().registryNode();
    const recorded = () => store().get("ConfigMap", NAMESPACE, "registry-clouddrove-upgrade")?.data;
    const before = recorded();
    const prompter = new ScriptedPrompter([""]);
    const run = await runCli(
      ["--kubeconfig", h().sbx.kubeconfigPath, "upgrade", "--node", target, "--registry-version", "3.0.0"],
      { env: cleanEnv({ CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD }), cwd: h().sbx.dir, tty: true, prompter },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "one-way: once the new version has written data, --rollback refuses to move back",
    );
    expect(run.stderr).toContain("Nothing was changed.");
    expect(store().get("Node", undefined, target)?.spec.unschedulable).toBeUndefined();
    expect(recorded()).toEqual(before);
  });

  it("Ctrl-C during the drain exits 130, says the node is cordoned, and --rollback uncordons it", async () => {
    const target = h().registryNode();
    // Keep the drain waiting on a disruption budget so that the interrupt lands in it.
    const rule = h().sbx.sandbox.faults.add({
      verbs: ["create"],
      path: "/eviction$",
      action: {
        type: "error",
        status: 429,
        message: "Cannot evict pod as it would violate the pod's disruption budget.",
      },
    });
    const controller = new AbortController();
    const unsubscribe = store().subscribe("Node", (event: Any) => {
      if (event.object.metadata.name === target && event.object.spec.unschedulable) {
        setTimeout(() => controller.abort(), 300);
      }
    });
    const interrupted = await h().upgrade(
      ["--node", target, "--upgrade-command", "true", "--no-registry-check"],
      {
        signal: controller.signal,
      },
    );
    unsubscribe();
    h().sbx.sandbox.faults.clear(rule.id);
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toContain(`node ${target} is CORDONED`);
    expect(interrupted.stderr).toContain("clouddrove upgrade --rollback");
    expect(report(interrupted.stdout).ok).toBe(false);
    expect(store().get("Node", undefined, target)?.spec.unschedulable).toBe(true);
    // Ctrl-C frees the registry lock: the rollback below is not refused.
    expect(store().get("Lease", NAMESPACE, "registry-clouddrove-lock")).toBeUndefined();

    const rollback = await h().upgrade(["--rollback"]);
    expect(rollback.code, rollback.stderr).toBe(0);
    const steps = report(rollback.stdout).steps;
    expect(steps[0]).toMatchObject({
      status: "skipped",
      detail: "the new registry version was never applied",
    });
    expect(steps[1].detail).toBe(`uncordoned ${target}`);
    expect(store().get("Node", undefined, target)?.spec.unschedulable).toBeUndefined();
  });

  it("backs up through a Job made from the backup CronJob before the registry's major upgrade", async () => {
    store().create({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "registry-clouddrove-backup", namespace: NAMESPACE },
      spec: {
        schedule: "0 3 * * *",
        jobTemplate: {
          spec: {
            template: {
              metadata: { labels: { "app.kubernetes.io/component": "backup" } },
              spec: {
                restartPolicy: "Never",
                containers: [{ name: "archive", image: "rclone/rclone:1.68" }],
              },
            },
          },
        },
      },
    });
    const run = await h().upgrade(["--node", h().registryNode(), "--registry-version", "3.0.0"]);
    expect(run.code, run.stderr).toBe(0);
    const backup = report(run.stdout).steps.find((s: Any) => s.title.startsWith("Backed up the registry"));
    expect(backup?.status).toBe("succeeded");
    const jobs: Any[] = store()
      .list("Job", { namespace: NAMESPACE })
      .filter((j: Any) => j.metadata.name.startsWith("registry-clouddrove-backup-upgrade-"));
    expect(jobs).toHaveLength(1);
    expect(jobs[0].metadata.annotations["cronjob.kubernetes.io/instantiate"]).toBe("manual");
    expect(jobs[0].status.conditions.some((c: Any) => c.type === "Complete" && c.status === "True")).toBe(
      true,
    );
    // The backup finished before the node was cordoned.
    const titles = report(run.stdout).steps.map((s: Any) => s.title as string);
    expect(titles.findIndex((t: string) => t.startsWith("Backed up"))).toBeLessThan(
      titles.findIndex((t: string) => t.startsWith("Cordoned")),
    );
  });
});
