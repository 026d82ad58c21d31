/**
 * `clouddrove config set KEY VALUE`: validated like every setting, the file's comments and order kept,
 * exit 2 with nothing written on a bad key or value.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cleanEnv, runCli, tempDir } from "../support/run-cli.js";

const ORIGINAL = [
  "# the team's registry",
  "cluster:",
  "  # where it runs",
  "  region: eu-west-1 # Ireland",
  "registry:",
  "  replicas: 3",
  "",
].join("\n");

function withFile(): { cwd: string; path: string } {
  const cwd = tempDir();
  const path = join(cwd, "clouddrove.yaml");
  writeFileSync(path, ORIGINAL);
  return { cwd, path };
}

describe("clouddrove config set", () => {
  it("writes the value where it belongs, keeping comments and order; versions stay strings", async () => {
    const { cwd, path } = withFile();
    const run = await runCli(["config", "set", "registry.version", "3.0.0"], { cwd, env: cleanEnv() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`registry.version: 3.0.0 in ${path}`);
    expect(
      (await runCli(["config", "set", "network.allowedCidrs", "10.0.0.0/8,192.168.0.0/16"], { cwd })).code,
    ).toBe(0);
    // The one key added under its group, the list as a new group at the end; every other line as it was.
    expect(readFileSync(path, "utf8")).toBe(
      `${ORIGINAL.replace("  replicas: 3\n", '  replicas: 3\n  version: "3.0.0"\n')}network:\n  allowedCidrs:\n    - 10.0.0.0/8\n    - 192.168.0.0/16\n`,
    );
    const shown = await runCli(["-o", "json", "config", "show"], { cwd });
    const version = JSON.parse(shown.stdout).settings.find(
      (s: { key: string }) => s.key === "registry.version",
    );
    expect(version).toMatchObject({ value: "3.0.0", source: "file" });
  });

  it("an unknown key is exit 2 with a suggestion, and the file is left as it was", async () => {
    const { cwd, path } = withFile();
    const run = await runCli(["config", "set", "registry.replica", "4"], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "Unknown key 'registry.replica' (did you mean 'registry.replicas'?); nothing was written.",
    );
    expect(readFileSync(path, "utf8")).toBe(ORIGINAL);
  });

  it("an invalid value, or one the other settings refuse, is exit 2 with nothing written", async () => {
    const { cwd, path } = withFile();
    const size = await runCli(["config", "set", "storage.size", "50GB"], { cwd });
    expect(size.code).toBe(2);
    expect(size.stderr).toContain("storage.size: '50GB' from the command line is not valid");
    expect(size.stderr).toContain("Hint:");
    const ebs = await runCli(["config", "set", "storage.type", "ebs"], { cwd });
    expect(ebs.code).toBe(2);
    expect(ebs.stderr).toContain("ReadWriteOnce");
    expect(readFileSync(path, "utf8")).toBe(ORIGINAL);
  });

  it("creates the file (--config names it) when there is none", async () => {
    const cwd = tempDir();
    const run = await runCli(["--config", "prod.yaml", "config", "set", "cluster.region", "eu-central-1"], {
      cwd,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(cwd, "prod.yaml"))).toBe(true);
    expect(parse(readFileSync(join(cwd, "prod.yaml"), "utf8"))).toEqual({
      cluster: { region: "eu-central-1" },
    });
    expect(readFileSync(join(cwd, "prod.yaml"), "utf8")).toContain("Secrets are never stored here");
  });
});
