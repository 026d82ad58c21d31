/**
 * The non-interactive contract, with the built CLI as CI runs it: CI=true, stdin from /dev/null, no
 * config. Commands never hang: they finish on defaults or exit 2 naming what is missing.
 */
import { describe, expect, it } from "vitest";
import { runBuiltCli } from "../support/built-cli.js";

const run = (args: string[], env: Record<string, string> = {}) =>
  runBuiltCli(args, { env, timeoutMs: 20_000 });

describe("without a terminal", () => {
  it("init exits 2 naming the region's flag and env var", () => {
    const result = run(["init"]);
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--region or CLOUDDROVE_CLUSTER_REGION");
  });

  it("init finishes when the environment supplies what is missing", () => {
    const result = run(["init"], { CLOUDDROVE_CLUSTER_REGION: "eu-west-1" });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Wrote");
  });

  it("deploy --dry-run exits 2 naming the EFS id, or renders when it is given", () => {
    const missing = run(["deploy", "--dry-run"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("CLOUDDROVE_STORAGE_EFS_FILE_SYSTEM_ID");
    const given = run(["deploy", "--dry-run"], {
      CLOUDDROVE_STORAGE_EFS_FILE_SYSTEM_ID: "fs-0123456789abcdef0",
    });
    expect(given.status).toBe(0);
    expect(given.stdout).toContain("kind: Deployment");
  });

  it("--help lists only commands that work", () => {
    const help = run(["--help"]);
    expect(help.status).toBe(0);
    const commands = [...help.stdout.matchAll(/^ {2}(\w[\w-]*)/gm)].map((m) => m[1]);
    expect(commands).toContain("init");
    expect(commands).toContain("deploy");
  });
});
