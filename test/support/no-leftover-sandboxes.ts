/**
 * vitest global setup: after the whole run, no sandbox started by a test may still run. A test that
 * starts one (with --sandbox or `sandbox up`) stops it itself; any that remains is stopped here and the
 * run fails, naming its state directory, so a leak is fixed rather than piling up processes.
 *
 * Only this run's sandboxes are looked at: each carries the run's mark (CLOUDDROVE_TEST_RUN in its
 * environment, made here and put into the environments the test helpers give commands), so another test
 * run on the same machine keeps its own.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

export const RUN_MARK = "CLOUDDROVE_TEST_RUN";
const LEAKS_FILE = new URL("../../.vitest-leaks.json", import.meta.url);

function carriesMark(pid: number, mark: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`${RUN_MARK}=${mark}`);
  } catch {
    return false;
  }
}

function sandboxDaemons(): Array<{ pid: number; args: string }> {
  const lines = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" }).trim().split("\n");
  return lines
    .map((line) => {
      const [, pid, args] = /^\s*(\d+)\s+(.*)$/.exec(line) ?? [];
      return { pid: Number(pid), args: args ?? "" };
    })
    .filter(
      ({ args }) => /sandbox\/dist\/daemon\.js --state-dir /.test(args) && args.includes(` ${tmpdir()}/`),
    );
}

let mark = "";

export function setup(project: { provide(key: "sandboxRunMark", value: string): void }): void {
  mark = randomUUID();
  // The workers read it with inject("sandboxRunMark") (test/support/run-mark.ts).
  project.provide("sandboxRunMark", mark);
}

export function teardown(): void {
  const left = sandboxDaemons().filter(({ pid }) => carriesMark(pid, mark));
  for (const { pid } of left) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      process.kill(pid, "SIGKILL");
    }
  }
  // vitest reports an error thrown here but still exits 0: the leak is also written where the closing
  // summary (scripts/test-summary.mjs) reads it and fails the run.
  writeFileSync(LEAKS_FILE, JSON.stringify(left.map(({ args }) => args)));
  if (left.length > 0) {
    throw new Error(
      `tests left ${left.length} sandbox(es) running:\n${left.map(({ args }) => `  ${args}`).join("\n")}`,
    );
  }
}
