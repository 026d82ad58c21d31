/**
 * The built CLI (bin/clouddrove.js, which runs dist/bundle/) in a child process, as CI and users run it:
 * no terminal (stdin is /dev/null), CI=true, and an environment of PATH and HOME plus what a test adds.
 */
import { spawnSync } from "node:child_process";
import { openSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runProcess } from "./process-run.js";
import { tempDir } from "./run-cli.js";
import { runMark } from "./run-mark.js";

export const CLI = fileURLToPath(new URL("../../bin/clouddrove.js", import.meta.url));

export interface BuiltCliOptions {
  /** Working directory and HOME (default: a new temporary directory). */
  cwd?: string;
  env?: Record<string, string>;
  /** Node's own flags, before the script (e.g. --import). */
  nodeArgs?: string[];
  timeoutMs?: number;
}

/** What the built CLI runs with: PATH, HOME (the working directory), CI=true, the run's mark, `env`. */
function builtCliEnv(cwd: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: cwd,
    CI: "true",
    // Marks the sandboxes this run starts (test/support/no-leftover-sandboxes.ts).
    ...runMark(),
    ...env,
  };
}

export function runBuiltCli(args: string[], options: BuiltCliOptions = {}) {
  const cwd = options.cwd ?? tempDir();
  return spawnSync(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], {
    cwd,
    env: builtCliEnv(cwd, options.env),
    stdio: [openSync("/dev/null", "r"), "pipe", "pipe"],
    encoding: "utf8",
    timeout: options.timeoutMs ?? 60_000,
  });
}

/**
 * The same, without blocking the test's event loop: for a CLI that talks to a server living in the test's
 * own process (a synchronous run would wait for an answer that server can never give).
 */
export function runBuiltCliAsync(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
) {
  const cwd = options.cwd ?? tempDir();
  return runProcess(process.execPath, [CLI, ...args], { cwd, env: builtCliEnv(cwd, options.env) });
}
