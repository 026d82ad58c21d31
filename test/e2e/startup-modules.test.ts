/**
 * What the built CLI loads to start (the start-up benchmark's reason, asserted without timing): a dry run
 * reads no dependency from node_modules (no yaml package, Kubernetes client, listr2, prompts, execa) and no
 * terminal module for colour in CI; --version loads nothing but bin/clouddrove.js.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CLI, runBuiltCli } from "../support/built-cli.js";
import { tempDir } from "../support/run-cli.js";

const register = fileURLToPath(new URL("../fixtures/module-log/register.mjs", import.meta.url));
const example = fileURLToPath(new URL("../../examples/clouddrove.yaml", import.meta.url));

/** Runs the built CLI as CI does and returns the URLs it resolved, with its exit status and output. */
function modulesLoadedBy(args: string[]) {
  const log = join(tempDir(), "modules.log");
  const run = runBuiltCli(args, { nodeArgs: ["--import", register], env: { MODULE_LOG: log } });
  const urls = readFileSync(log, "utf8").trim().split("\n");
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, urls };
}

describe("start-up module loading", () => {
  it("renders a dry run without loading any package from node_modules", () => {
    const run = modulesLoadedBy(["--config", example, "deploy", "--dry-run", "-o", "yaml"]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("kind: Deployment");
    expect(run.urls.filter((url) => url.includes("/node_modules/"))).toEqual([]);
    expect(run.urls).not.toContain("node:tty");
    // Only the bundle: one entry, its chunks, and the deploy command's module.
    expect(run.urls.some((url) => url.endsWith("/dist/bundle/cli.js"))).toBe(true);
    expect(run.urls.filter((url) => url.includes("/dist/") && !url.includes("/dist/bundle/"))).toEqual([]);
    expect(run.urls.some((url) => /\/dist\/bundle\/(status|backup|upgrade|sandbox)-/.test(url))).toBe(false);
    // Each file costs the loader a round of file-system calls and a compile: the bundler merges small
    // chunks (scripts/bundle.mjs), and a dry run loaded 27 files before it did, 14 after.
    expect(
      new Set(run.urls.filter((url) => url.includes("/dist/bundle/"))).size,
      "bundle files",
    ).toBeLessThanOrEqual(16);
  });

  it("answers --version from bin/ alone", () => {
    const run = modulesLoadedBy(["--version"]);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(run.urls.filter((url) => url.startsWith("file:"))).toEqual([`file://${CLI}`]);
  });
});

describe("the bundled CLI's stack traces", () => {
  it("point into src/ under --verbose, through the bundle's source maps", () => {
    const run = runBuiltCli(["--verbose", "--config", "/nonexistent.yaml", "deploy", "--dry-run"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/at loadConfigFile \(.*\/src\/config\/load\.ts:\d+:\d+\)/);
  });
});
