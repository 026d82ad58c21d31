/**
 * `clouddrove upgrade --sandbox --kubernetes-version`: the sandbox running in the background (started by
 * the first --sandbox command), the nodegroup update asked of its AWS endpoint's EKS API exactly as of
 * EKS. (Its own file: a worker of its own, apart from the kubeconfig-mode sandboxes of other tests.)
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { down, startSandbox } from "../../sandbox/src/index.js";
import { cleanEnv, runCli, tempDir } from "../support/run-cli.js";
import { NAMESPACE, PASSWORD, report, setKubelets } from "./upgrade-harness.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    await down(join(dir, "sandbox"));
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("upgrade --sandbox --kubernetes-version", () => {
  it("asks the sandbox's EKS API to update the nodegroup, as on EKS", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const stateDir = join(dir, "sandbox");
    const env = cleanEnv({
      CI: "true",
      CLOUDDROVE_SANDBOX_DIR: stateDir,
      CLOUDDROVE_SANDBOX_SPEED: "300",
      CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD,
    });
    const deployed = await runCli(["deploy", "--sandbox", "--yes", "--no-smoke-test"], { env, cwd: dir });
    expect(deployed.code, deployed.stderr).toBe(0);
    // Stopped between two commands, the sandbox's kubelets are aged through its saved state; the next
    // --sandbox command starts it again from there.
    await down(stateDir);
    const offline = await startSandbox({ stateDir, speed: 300 });
    setKubelets(offline, "v1.32.9-eks-1a2b3c4");
    // A node that runs a replica. Started from its saved state under load, the sandbox may not have
    // bound the pods again yet: wait for one (an undefined --node value once reached the CLI's parser).
    const hosts = () =>
      offline.store
        .list("Pod", { namespace: NAMESPACE })
        .map((p: Any) => p.spec.nodeName as string | undefined)
        .filter((node): node is string => Boolean(node))
        .sort();
    for (let waited = 0; hosts().length === 0 && waited < 30_000; waited += 100)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const target = hosts()[0];
    if (!target) throw new Error("no node runs a replica of the registry 30 s after the sandbox started");
    await offline.stop();

    const run = await runCli(
      [
        "-o",
        "json",
        "upgrade",
        "--yes",
        "--sandbox",
        "--node",
        target as string,
        "--kubernetes-version",
        "1.33",
      ],
      {
        env,
        cwd: dir,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const result = report(run.stdout);
    expect(result.ok).toBe(true);
    expect(result.replacements[target]).toMatch(/^ip-/);
    expect(result.health.nodes.map((n: Any) => n.name)).not.toContain(target);
    expect(
      result.health.nodes.find((n: Any) => n.name === result.replacements[target]).kubeletVersion,
    ).toMatch(/^v1\.33\./);
    expect(result.availability.minReadyReplicas).toBeGreaterThanOrEqual(2);
    const bump = result.steps.find((s: Any) => s.title.startsWith(`Upgraded ${target}`));
    expect(bump.detail).toMatch(
      new RegExp(
        `^nodegroup ng-eu-west-1[abc] at 1\\.33 \\(EKS update [0-9a-f]{16}\\): ${target} replaced by ip-`,
      ),
    );
  });
});
