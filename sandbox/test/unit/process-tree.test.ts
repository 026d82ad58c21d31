/**
 * A script container's stop reaches what its script left running: the shell's background `sleep`
 * (install-ca.sh waits between checks that way) is signalled with it, so the container ends at once and
 * leaves nothing behind; without that the sleep would hold the output pipes and outlive the container.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { descendants, ManagedProcess } from "../../src/runtime/process.js";

/** Running: it exists and is not a zombie waiting for whoever adopted it to reap it. */
const running = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
};

describe("a script container's process tree", () => {
  it("is found below the shell and stopped with it", async () => {
    const shell = new ManagedProcess(
      "/bin/sh",
      ["-c", "trap 'exit 0' TERM; sleep 300 & wait $!"],
      { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      process.cwd(),
      undefined,
      { wholeTree: true },
    );
    let below: number[] = [];
    for (let tries = 0; below.length === 0 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      below = descendants(shell.pid as number);
    }
    expect(below).toHaveLength(1);
    const started = Date.now();
    shell.terminate();
    const status = await shell.exited;
    expect(status.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(running(below[0] as number)).toBe(false);
  });
});
