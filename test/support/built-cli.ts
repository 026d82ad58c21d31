/**
 * The built CLI (bin/clouddrove.js, which runs dist/bundle/) in a child process, as CI and users run it:
 * no terminal (stdin is /dev/null), CI=true, and an environment of PATH and HOME plus what a test adds.
 */
import { spawnSync } from "node:child_process";
import { openSync } from "node:fs";
import { fileURLToPath } from "node:url";
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

export function runBuiltCli(args: string[], options: BuiltCliOptions = {}) {
  const cwd = options.cwd ?? tempDir();
  return spawnSync(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: cwd,
      CI: "true",
      // Marks the sandboxes this run starts (test/support/no-leftover-sandboxes.ts).
      ...runMark(),
      ...options.env,
    },
    stdio: [openSync("/dev/null", "r"), "pipe", "pipe"],
    encoding: "utf8",
    timeout: options.timeoutMs ?? 60_000,
  });
}
