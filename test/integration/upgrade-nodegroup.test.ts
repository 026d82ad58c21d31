/**
 * `clouddrove upgrade --kubernetes-version` replaces the node through its EKS nodegroup. Against a
 * kubeconfig it runs `eksctl upgrade nodegroup`: here a stand-in eksctl on PATH hands the call to this
 * test over loopback, which runs the sandbox's simulated managed-nodegroup upgrade (new node first in the
 * same zone, the old one drained and removed). (upgrade-sandbox-flag.test.ts: the same with --sandbox.)
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Sandbox, upgradeNodegroup } from "../../sandbox/src/index.js";
import { report, setKubelets, startHarness, type UpgradeHarness } from "./upgrade-harness.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An `eksctl` on PATH that asks the test to perform `upgrade nodegroup` and prints eksctl-style lines. */
async function eksctlStandIn(sandbox: Sandbox, dir: string) {
  const calls: string[][] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", async () => {
      const argv = JSON.parse(body) as string[];
      calls.push(argv);
      const flag = (name: string) => argv[argv.indexOf(name) + 1] as string;
      try {
        const result = await upgradeNodegroup(sandbox, flag("--name"), flag("--kubernetes-version"));
        res.end(
          `2024-01-01 12:00:00 [ℹ]  will upgrade nodes in nodegroup "${flag("--name")}"\n` +
            `2024-01-01 12:00:00 [✔]  nodegroup successfully upgraded (${result.oldNode} -> ${result.newNode})\n`,
        );
      } catch (error) {
        res.statusCode = 500;
        res.end(`Error: ${(error as Error).message}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, "eksctl"),
    `#!/usr/bin/env node
const res = await fetch(process.env.STAND_IN_URL, { method: "POST", body: JSON.stringify(process.argv.slice(2)) });
const text = await res.text();
(res.ok ? process.stdout : process.stderr).write(text);
process.exit(res.ok ? 0 : 1);
`,
  );
  chmodSync(join(bin, "eksctl"), 0o755);
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return {
    calls,
    env: { PATH: `${bin}:${process.env.PATH}`, STAND_IN_URL: `http://127.0.0.1:${address.port}/` },
  };
}

describe("upgrade --kubernetes-version", () => {
  let h: UpgradeHarness;

  it("runs eksctl upgrade nodegroup; the replacement node is waited for and uncordoned", async () => {
    h = await startHarness();
    cleanups.push(() => h.stop());
    expect((await h.deploy()).code).toBe(0);
    const sandbox = h.sbx.sandbox;
    setKubelets(sandbox, "v1.31.13-eks-1a2b3c4");
    const target = h.registryNode();
    const zone = (sandbox.store.get("Node", undefined, target) as Any).metadata.labels[
      "topology.kubernetes.io/zone"
    ];
    const others = h.nodeNames().filter((n) => n !== target);

    // Two minors behind: one minor at a time.
    const skipped = await h.upgrade(["--node", target, "--kubernetes-version", "1.33"]);
    expect(skipped.code).toBe(2);
    expect(skipped.stderr).toContain("skips 1 minor version(s)");

    setKubelets(sandbox, "v1.32.9-eks-1a2b3c4");
    const eksctl = await eksctlStandIn(sandbox, h.sbx.dir);
    const ready = h.watchReady();
    const run = await h.upgrade(["--node", target, "--kubernetes-version", "1.33"], { env: eksctl.env });
    ready.stop();
    expect(run.code, run.stderr).toBe(0);
    expect(eksctl.calls).toEqual([
      [
        "upgrade",
        "nodegroup",
        "--cluster",
        "clouddrove",
        "--name",
        `ng-${zone}`,
        "--kubernetes-version",
        "1.33",
      ],
    ]);
    const result = report(run.stdout);
    const replacement = result.replacements[target] as string;
    expect(replacement).toBeDefined();
    expect(sandbox.store.get("Node", undefined, target)).toBeUndefined();
    const fresh = sandbox.store.get("Node", undefined, replacement) as Any;
    expect(fresh.metadata.labels["topology.kubernetes.io/zone"]).toBe(zone);
    expect(fresh.status.nodeInfo.kubeletVersion).toMatch(/^v1\.33\./);
    expect(fresh.spec.unschedulable).toBeUndefined();
    expect(result.steps.find((s: Any) => s.title.startsWith("Uncordoned"))?.title).toContain(
      `${replacement} (the replacement of ${target})`,
    );
    // The nodes not upgraded keep their kubelet; the registry runs one replica per node, on the new one too.
    for (const other of others) {
      expect(sandbox.store.get("Node", undefined, other)?.status.nodeInfo.kubeletVersion).toBe(
        "v1.32.9-eks-1a2b3c4",
      );
    }
    expect(
      h
        .registryPods()
        .filter((p: Any) => !p.metadata.deletionTimestamp)
        .map((p: Any) => p.spec.nodeName)
        .sort(),
    ).toEqual([replacement, ...others].sort());
    expect(ready.min()).toBeGreaterThanOrEqual(2);
  });
});
