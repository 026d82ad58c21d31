import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cleanEnv, runCli, tempDir } from "../support/run-cli.js";

describe("the command line", () => {
  it("prints the version", async () => {
    const run = await runCli(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("maps usage errors (unknown option, bad choice) to exit 2", async () => {
    expect((await runCli(["config", "show", "--bogus"])).code).toBe(2);
    const badFormat = await runCli(["-o", "xml", "config", "show"]);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain("xml");
  });

  it("an unknown command is exit 2", async () => {
    expect((await runCli(["frobnicate"])).code).toBe(2);
  });

  it("a missing --config file is exit 2 with a hint", async () => {
    const run = await runCli(["--config", "nope.yaml", "config", "show"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("does not exist");
    expect(run.stderr).toContain("Hint:");
  });

  it("a config file with a YAML syntax error is exit 2", async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, "clouddrove.yaml"), "storage:\n  size: [50Gi\n");
    const run = await runCli(["config", "show"], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("not valid YAML");
  });

  it("with no kubeconfig at all, status exits 4 and its hint names --sandbox", async () => {
    const home = tempDir();
    const run = await runCli(["status"], { cwd: home, env: cleanEnv({ HOME: home }) });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`No kubeconfig found at ${join(home, ".kube", "config")}.`);
    expect(run.stderr).toMatch(
      /Hint: .*For the sandbox on this machine, add --sandbox \(e\.g\. `clouddrove status --sandbox`\)\./,
    );
  });

  it("an unknown key in the config file is exit 2 naming its line and the likely setting", async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, "clouddrove.yaml"), "cluster:\n  region: eu-west-1\nstorage:\n  sise: 50Gi\n");
    const run = await runCli(["config", "show"], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${join(cwd, "clouddrove.yaml")}:4: unknown key 'storage.sise' (did you mean 'storage.size'?)`,
    );
  });
});

describe("clouddrove config show", () => {
  it("shows every setting with its source; JSON has exactly one document on stdout", async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, "clouddrove.yaml"), "storage:\n  size: 60Gi\n");
    const env = cleanEnv({
      CLOUDDROVE_CLUSTER_REGION: "eu-west-1",
      CLOUDDROVE_REGISTRY_PASSWORD: "hunter2hunter2",
    });
    const run = await runCli(
      ["-o", "json", "config", "show", "--replicas", "4", "--set", "backup.prefix=x/"],
      {
        cwd,
        env,
      },
    );
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    const row = (key: string) => report.settings.find((s: { key: string }) => s.key === key);
    expect(row("storage.size")).toMatchObject({ value: "60Gi", source: "file" });
    expect(row("cluster.region")).toMatchObject({ value: "eu-west-1", source: "env" });
    expect(row("registry.replicas")).toMatchObject({ value: 4, source: "flag" });
    expect(row("backup.prefix")).toMatchObject({ value: "x/", source: "set" });
    expect(row("registry.version")).toMatchObject({ value: "2.8.2", source: "default" });
    expect(run.stdout).not.toContain("hunter2");
    expect(report.secrets[0].value).toBe("********");
  });

  it("text output masks the password too", async () => {
    const env = cleanEnv({ CLOUDDROVE_REGISTRY_PASSWORD: "hunter2hunter2" });
    const run = await runCli(["config", "show"], { env });
    expect(run.stdout).toContain("registry password");
    expect(run.stdout + run.stderr).not.toContain("hunter2");
  });
});
