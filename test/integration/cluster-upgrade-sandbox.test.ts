/**
 * `cluster upgrade` (src/commands/cluster-upgrade.ts) against the sandbox, whose AWS endpoint carries out
 * EKS's control-plane, add-on and node group updates on its own clock: refusals first (nothing changes),
 * then a cluster without the registry (node groups updated by EKS), then one with it (the registry's own
 * node-by-node upgrade, healthy after).
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { down } from "../../sandbox/src/index.js";
import { connectKube } from "../../src/adapters/kube.js";
import { Kinds } from "../../src/adapters/kube-kinds.js";
import { removeTempDirs, tempDir } from "../support/fake-eksctl/index.js";
import { cleanEnv, runCli } from "../support/run-cli.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  removeTempDirs();
});

function sandboxEnv(dir: string) {
  const stateDir = join(dir, "sandbox");
  cleanups.push(() => down(stateDir));
  return {
    CLOUDDROVE_SANDBOX_DIR: stateDir,
    CLOUDDROVE_SANDBOX_SPEED: "200",
    CLOUDDROVE_REGISTRY_PASSWORD: "cluster-upgrade-test-1",
  };
}

/** What the API server says it is, and each node's kubelet minor. */
async function versions(kubeconfig: string) {
  const kube = await connectKube({ kubeconfigPath: kubeconfig, context: "clouddrove-sandbox" });
  const server = await kube.serverVersion();
  const nodes = await kube.list(Kinds.Node);
  return {
    server: /^v?(\d+\.\d+)/.exec(server)?.[1],
    nodes: nodes.map((n) => /^v(\d+\.\d+)/.exec(n.status?.nodeInfo?.kubeletVersion ?? "")?.[1]),
  };
}

describe("cluster upgrade --sandbox", () => {
  it("refuses skips, downgrades and an unasked run; moves control plane, add-ons and node groups; then the registry's nodes one at a time", {
    timeout: 240_000,
  }, async () => {
    const cwd = tempDir();
    const env = cleanEnv(sandboxEnv(cwd));
    const kubeconfig = join(env.CLOUDDROVE_SANDBOX_DIR as string, "kubeconfig");
    const run = (...argv: string[]) => runCli(["cluster", "upgrade", "--sandbox", ...argv], { env, cwd });
    expect(
      (await runCli(["cluster", "create", "--sandbox", "--kubernetes-version", "1.31"], { env, cwd })).code,
    ).toBe(0);

    const skip = await run("--kubernetes-version", "1.33", "--yes");
    expect(skip.code).toBe(2);
    expect(skip.stderr).toContain("EKS upgrades a control plane one minor at a time, not to 1.33 at once");
    expect(skip.stderr).toContain("clouddrove cluster upgrade --kubernetes-version 1.32");
    const back = await run("--kubernetes-version", "1.30", "--yes");
    expect(back.code).toBe(2);
    expect(back.stderr).toContain("EKS never moves a control plane back to 1.30");
    const none = await run();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--kubernetes-version 1.NN");
    const unasked = await run("--kubernetes-version", "1.32");
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toContain("Pass --yes");
    expect(unasked.stderr).toContain("control plane: 1.31 -> 1.32");
    expect(await versions(kubeconfig)).toEqual({ server: "1.31", nodes: ["1.31", "1.31", "1.31"] });

    const dry = await run("--kubernetes-version", "1.32", "--dry-run", "-o", "json");
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan).toMatchObject({ dryRun: true, current: "1.31", target: "1.32" });
    expect(plan.addons).toContainEqual({
      name: "kube-proxy",
      from: "v1.33.0-eksbuild.2",
      to: "v1.32.0-eksbuild.2",
    });

    // No registry on the cluster: the node groups are updated by EKS itself.
    const bare = await run("--kubernetes-version", "1.32", "--yes", "-o", "json");
    expect(bare.stderr).not.toContain("Error");
    expect(bare.code).toBe(0);
    expect(JSON.parse(bare.stdout).done).toEqual([
      "control plane 1.31 -> 1.32",
      "add-on kube-proxy v1.33.0-eksbuild.2 -> v1.32.0-eksbuild.2",
      "node group ng-eu-west-1a -> 1.32",
      "node group ng-eu-west-1b -> 1.32",
      "node group ng-eu-west-1c -> 1.32",
    ]);
    expect(await versions(kubeconfig)).toEqual({ server: "1.32", nodes: ["1.32", "1.32", "1.32"] });
    const again = await run("--kubernetes-version", "1.32", "--yes");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Cluster clouddrove runs Kubernetes 1.32 already: nothing to do.");

    // With the registry: its own maintenance, one node at a time, healthy after.
    expect((await runCli(["deploy", "--sandbox", "--yes"], { env, cwd })).code).toBe(0);
    const withRegistry = await run("--kubernetes-version", "1.33", "--yes");
    expect(withRegistry.stderr).not.toContain("Error");
    expect(withRegistry.code).toBe(0);
    expect(withRegistry.stdout).toContain("Upgraded 3 nodes, one at a time");
    expect(withRegistry.stdout).toMatch(/Availability: at least 2 replica\(s\) ready throughout/);
    expect(await versions(kubeconfig)).toEqual({ server: "1.33", nodes: ["1.33", "1.33", "1.33"] });
    const status = await runCli(["status", "--sandbox"], { env, cwd });
    expect(status.code).toBe(0);
  });
});
