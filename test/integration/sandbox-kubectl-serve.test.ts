/**
 * `clouddrove sandbox serve` in-process: it writes a kubeconfig context the real kubectl uses, says the
 * cluster is simulated, saves its state on Ctrl-C, and `sandbox reset` deletes that state.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { until } from "../../sandbox/test/support/wait.js";
import { cleanEnv, runCli, tempDir } from "../support/run-cli.js";

describe("clouddrove sandbox serve / reset", () => {
  const dir = tempDir("clouddrove-sandbox-serve-");
  const stateDir = join(dir, "state");
  const kubeconfig = join(dir, "kube", "config");
  const env = cleanEnv({ CLOUDDROVE_SANDBOX_DIR: stateDir, HOME: dir });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves until Ctrl-C, for the real kubectl, then saves its state", async () => {
    const interrupt = new AbortController();
    const run = runCli(
      [
        "--kubeconfig",
        kubeconfig,
        "sandbox",
        "serve",
        "--zones",
        "us-east-2a,us-east-2b,us-east-2c",
        "--speed",
        "100",
      ],
      {
        env,
        signal: interrupt.signal,
      },
    );
    try {
      await until("the kubeconfig to be written", () => existsSync(kubeconfig), 20_000);
      const nodes = await execa(
        "kubectl",
        [
          "--kubeconfig",
          kubeconfig,
          "--context",
          "clouddrove-sandbox",
          "get",
          "nodes",
          "-L",
          "topology.kubernetes.io/zone",
          "--no-headers",
        ],
        { reject: false, env: { HOME: dir } },
      );
      expect(nodes.exitCode).toBe(0);
      const zones = String(nodes.stdout)
        .trim()
        .split("\n")
        .map((line) => line.split(/\s+/).at(-1));
      expect(zones.sort()).toEqual(["us-east-2a", "us-east-2b", "us-east-2c"]);
    } finally {
      interrupt.abort();
    }
    const result = await run;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("This cluster is simulated");
    expect(result.stderr).toContain("Stopped the sandbox; its state is saved");
    expect(result.stdout).toContain(
      `kubectl --kubeconfig ${kubeconfig} --context clouddrove-sandbox get nodes -L topology.kubernetes.io/zone`,
    );
    expect(existsSync(join(stateDir, "state.json"))).toBe(true);
  });

  it("rejects bad flags with exit 2 before starting anything", async () => {
    const result = await runCli(["sandbox", "serve", "--zones", "eu-west-1a,us-east-1b"], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--zones names zones of several regions");
  });

  it("reset deletes the saved state", async () => {
    const result = await runCli(["sandbox", "reset"], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Deleted the sandbox state in ${stateDir}`);
    expect(existsSync(join(stateDir, "state.json"))).toBe(false);
    const again = await runCli(["-o", "json", "sandbox", "reset"], { env });
    expect(JSON.parse(again.stdout)).toEqual({ stateDir, deleted: false, volumesDeleted: false });
  });

  it("reset asks before deleting the registry data on the sandbox's volumes", async () => {
    const data = join(stateDir, "volumes", "efs", "fs-0123456789abcdef0");
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, "blob"), "pushed");
    const refused = await runCli(["sandbox", "reset"], { env: { ...env, CI: "true" } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--yes");
    expect(existsSync(join(data, "blob"))).toBe(true);
    const confirmed = await runCli(["sandbox", "reset", "--yes"], { env });
    expect(confirmed.code).toBe(0);
    expect(existsSync(join(stateDir, "volumes"))).toBe(false);
  });
});
