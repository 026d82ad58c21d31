/**
 * The confirmation before a credential rotation, in a real pseudo-terminal: what it will do is on the
 * screen before the question, Enter means no (nothing is touched), and y goes on to the cluster.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../support/run-cli.js";
import { CLI, TmuxSession } from "../support/tmux.js";

const sessions: TmuxSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});

function start(): TmuxSession {
  const cwd = tempDir();
  // A configuration, so that deploy does not ask init's questions first; no kubeconfig in HOME.
  writeFileSync(join(cwd, "clouddrove.yaml"), "cluster:\n  region: eu-west-1\n");
  const env = { PATH: process.env.PATH ?? "", HOME: cwd, TERM: "xterm-256color", NO_COLOR: "1" };
  const command = `${process.execPath} ${CLI} deploy --rotate-credentials --efs-file-system-id fs-0123456789abcdef0`;
  const session = TmuxSession.start(command, { cwd, env });
  sessions.push(session);
  return session;
}

describe("deploy --rotate-credentials at a terminal", () => {
  it("shows what the rotation does, and Enter (no) changes nothing", async () => {
    const tty = start();
    const screen = await tty.waitFor(/Go ahead\? \(y\/N\)/);
    expect(screen).toContain("Rotating the registry credentials:");
    expect(screen).toContain("must use the new one");
    tty.type("");
    expect(await tty.waitForExit()).toBe(1);
    expect(tty.screen()).toContain("Nothing was changed.");
    expect(tty.screen()).not.toContain("kubeconfig");
  });

  it("y goes on to the cluster (here: none, exit 4 with the hint)", async () => {
    const tty = start();
    await tty.waitFor(/Go ahead\? \(y\/N\)/);
    tty.type("y");
    expect(await tty.waitForExit()).toBe(4);
    expect(tty.screen()).toContain("No kubeconfig found");
  });
});
