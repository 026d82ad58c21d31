/**
 * vitest global setup: after the whole run, no sandbox started by a test may still run. A test that
 * starts one (with --sandbox or `sandbox up`) stops it itself; any that remains is stopped here and the
 * run fails, naming its state directory, so a leak is fixed rather than piling up processes.
 */
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";

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

let before = new Set<number>();

export function setup(): void {
  before = new Set(sandboxDaemons().map(({ pid }) => pid));
}

export function teardown(): void {
  const left = sandboxDaemons().filter(({ pid }) => !before.has(pid));
  for (const { pid } of left) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      process.kill(pid, "SIGKILL");
    }
  }
  if (left.length > 0) {
    throw new Error(
      `tests left ${left.length} sandbox(es) running:\n${left.map(({ args }) => `  ${args}`).join("\n")}`,
    );
  }
}
