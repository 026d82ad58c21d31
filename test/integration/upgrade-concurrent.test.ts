/**
 * Two operators at once on the sandbox: `upgrade --node A` and `upgrade --node B` started together end
 * with one upgraded node and the other run refused (exit 2, naming the holder) or waiting for the lock;
 * no node is left cordoned, the lock is freed, and the upgrade state stays usable for the next run.
 */
import { describe, expect, it } from "vitest";
import { connectKube } from "../../src/adapters/kube.js";
import { openPortForward } from "../../src/adapters/port-forward.js";
import { listTags, pushRandomImage, type RegistryEndpoint } from "../../src/adapters/registry.js";
import { LOCK_LEASE_NAME } from "../../src/core/lock/lease.js";
import { CHECK_REPOSITORY } from "../../src/core/upgrade/rollback-rule.js";
import { replicaEndpoint } from "../../src/steps/replica-endpoint.js";
import { NAMESPACE, PASSWORD, report, useDeployedHarness } from "./upgrade-harness.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

const { harness: h, store } = useDeployedHarness("each");
const cordoned = () =>
  store()
    .list("Node")
    .filter((n: Any) => n.spec?.unschedulable)
    .map((n: Any) => n.metadata.name);
const lease = () => store().get("Lease", NAMESPACE, LOCK_LEASE_NAME);

/** Runs `work` against a registry replica through a port-forward, as the test's own client. */
async function throughRegistry<T>(work: (endpoint: RegistryEndpoint) => Promise<T>): Promise<T> {
  const kube = await connectKube({ kubeconfigPath: h().sbx.kubeconfigPath, env: {} });
  const pod = h().registryPods()[0].metadata.name as string;
  const forward = await openPortForward(kube, NAMESPACE, pod, 5000);
  try {
    // As a client does: HTTPS, trusting the registry's private CA (its public copy in a ConfigMap).
    const ca = (store().get("ConfigMap", NAMESPACE, "registry-clouddrove-ca") as Any).data["ca.crt"];
    return await work({
      ...replicaEndpoint(forward.localPort, NAMESPACE, ca),
      username: "clouddrove",
      password: PASSWORD,
    });
  } finally {
    await forward.close();
    kube.http.close();
  }
}

describe("upgrade: two at once", () => {
  it("without --wait-for-lock: one upgrades its node, the other is refused naming the holder", async () => {
    const [a, b] = h().nodeNames() as [string, string];
    const runs = await Promise.all([
      h().upgrade(["--node", a, "--upgrade-command", "true"]),
      h().upgrade(["--node", b, "--upgrade-command", "true"]),
    ]);
    const codes = runs.map((r) => r.code).sort();
    const checkTag = (run: (typeof runs)[number]) =>
      (report(run.stdout).steps as Array<{ title: string }>)
        .map((step) => /upgrade-check:(\S+)/.exec(step.title)?.[1])
        .find(Boolean);
    expect(codes, runs.map((r) => r.stderr).join("\n---\n")).toEqual([0, 2]);
    const refused = runs.find((r) => r.code === 2) as (typeof runs)[number];
    const winner = runs.indexOf(runs.find((r) => r.code === 0) as (typeof runs)[number]);
    expect(refused.stderr).toContain("Another clouddrove run is changing the registry");
    expect(refused.stderr).toContain(`upgrade --node ${[a, b][winner]}`);
    expect(refused.stderr).toContain("--wait-for-lock");
    expect(report(runs[winner]?.stdout as string).ok).toBe(true);
    expect(cordoned()).toEqual([]);
    expect(lease()).toBeUndefined();
    // The state is usable: a new upgrade of the other node goes through, --resume has nothing to resume.
    const next = await h().upgrade(["--node", [a, b][1 - winner] as string, "--upgrade-command", "true"]);
    expect(next.code, next.stderr).toBe(0);
    const resume = await h().upgrade(["--resume"]);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain("There is no upgrade to resume (the last one is completed)");
    expect(cordoned()).toEqual([]);
    // Each run pushed its own check image.
    const tags = [checkTag(runs[winner] as (typeof runs)[number]), checkTag(next)];
    expect(tags[0]).toMatch(/^before-\d{8}T\d{6}Z-[0-9a-f]+$/);
    expect(tags[1]).not.toBe(tags[0]);
  });

  it("removes the check images of earlier runs after a run, keeping the newest three", async () => {
    const old = ["before-20200101T000000Z-aa", "before-20200102T000000Z-bb", "before-20200103T000000Z-cc"];
    await throughRegistry(async (endpoint) => {
      for (const tag of [...old, "mine"])
        await pushRandomImage(endpoint, CHECK_REPOSITORY, tag, { layerSize: 64 });
    });
    const run = await h().upgrade(["--node", h().nodeNames()[0] as string, "--upgrade-command", "true"]);
    expect(run.code, run.stderr).toBe(0);
    const steps = report(run.stdout).steps as Array<{ title: string; detail?: string }>;
    const own = steps.map((step) => /upgrade-check:(\S+)/.exec(step.title)?.[1]).find(Boolean) as string;
    const tags = await throughRegistry((endpoint) => listTags(endpoint, CHECK_REPOSITORY));
    // The oldest check image went; a tag clouddrove did not name is never touched.
    expect(tags.sort()).toEqual([old[1], old[2], own, "mine"].sort());
    expect(steps.find((step) => step.title.startsWith("Old check images"))?.detail).toBe(`removed ${old[0]}`);
  });

  it("with --wait-for-lock: the second waits, then upgrades its node after the first", async () => {
    const [a, b] = h().nodeNames() as [string, string];
    const runs = await Promise.all([
      h().upgrade(["--node", a, "--upgrade-command", "true", "--wait-for-lock", "5m"]),
      h().upgrade(["--node", b, "--upgrade-command", "true"], { env: { CLOUDDROVE_TIMEOUTS_LOCK: "5m" } }),
    ]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(runs.some((r) => r.stderr.includes("waiting for the registry lock (up to 5m)"))).toBe(true);
    const windows = runs.map((r) => {
      const steps = report(r.stdout).steps as Array<{ startedAt: string; endedAt: string }>;
      return { start: Date.parse(steps[0]?.startedAt ?? ""), end: Date.parse(steps.at(-1)?.endedAt ?? "") };
    });
    // One maintenance window after the other, never both at once.
    const [first, second] = windows.sort((x, y) => x.start - y.start) as [Any, Any];
    expect(second.start).toBeGreaterThanOrEqual(first.end);
    expect(cordoned()).toEqual([]);
    expect(lease()).toBeUndefined();
  });
});
