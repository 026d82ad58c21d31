/**
 * Tests that run commands with --sandbox start the sandbox in the background (as users do): each stops
 * its own by state directory, and the processes a sandbox started can be listed by its process group.
 */
import { execFileSync } from "node:child_process";
import { down } from "@clouddrove/sandbox";

/** Stops the background sandbox of `stateDir`, if one runs. */
export async function stopSandbox(stateDir: string): Promise<void> {
  await down(stateDir);
}

/** The pids in the process group `pgid` leads (a daemon started by `sandbox up` leads its own). */
export function processGroup(pgid: number): number[] {
  const lines = execFileSync("ps", ["-eo", "pid=,pgid="], { encoding: "utf8" }).trim().split("\n");
  return lines
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([, group]) => group === pgid)
    .map(([pid]) => pid as number);
}
