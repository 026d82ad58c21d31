/** src/lifecycle/owner.ts: one process owns a state directory; a dead or reused pid's record is taken over. */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AlreadyRunningError,
  claimOwnership,
  liveOwner,
  ownerFile,
  releaseOwnership,
} from "../../src/lifecycle/owner.js";

const dir = () => mkdtempSync(join(tmpdir(), "clouddrove-owner-"));

describe("claimOwnership", () => {
  it("records this process and gives the directory up on release", () => {
    const stateDir = dir();
    const record = claimOwnership(stateDir, "foreground");
    expect(record.pid).toBe(process.pid);
    expect(liveOwner(stateDir)?.pid).toBe(process.pid);
    releaseOwnership(stateDir);
    expect(liveOwner(stateDir)).toBeUndefined();
  });

  it("refuses while another live process owns the directory", async () => {
    const stateDir = dir();
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
    try {
      await new Promise((resolve) => other.once("spawn", resolve));
      const start = readFileSync(`/proc/${other.pid}/stat`, "utf8");
      const processStart = start.slice(start.lastIndexOf(")") + 2).split(" ")[19];
      writeFileSync(
        ownerFile(stateDir),
        JSON.stringify({
          pid: other.pid,
          mode: "daemon",
          startedAt: "",
          processStart,
          url: "https://127.0.0.1:9",
        }),
      );
      const error = (() => {
        try {
          claimOwnership(stateDir, "foreground");
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(AlreadyRunningError);
      expect((error as AlreadyRunningError).owner.pid).toBe(other.pid);
    } finally {
      other.kill();
    }
  });

  it("takes over the record of a process that is gone, or of a pid now used by another process", () => {
    const stateDir = dir();
    writeFileSync(ownerFile(stateDir), JSON.stringify({ pid: 2 ** 22 + 1, mode: "daemon", startedAt: "" }));
    expect(claimOwnership(stateDir, "foreground").pid).toBe(process.pid);
    releaseOwnership(stateDir);
    // This test's own pid, but started at another time: a reused pid, not the owner.
    writeFileSync(
      ownerFile(stateDir),
      JSON.stringify({ pid: process.pid, mode: "daemon", startedAt: "", processStart: "1" }),
    );
    expect(liveOwner(stateDir)).toBeUndefined();
    expect(claimOwnership(stateDir, "daemon").mode).toBe("daemon");
  });
});
