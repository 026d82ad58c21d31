/**
 * The built CLI in a real pseudo-terminal: the first-run prompts of `init`, answered by typing.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { tempDir } from "../support/run-cli.js";
import { CLI, TmuxSession } from "../support/tmux.js";

const sessions: TmuxSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});

function start(cwd: string, args = "init"): TmuxSession {
  const env = { PATH: process.env.PATH ?? "", HOME: cwd, TERM: "xterm-256color", NO_COLOR: "1" };
  const session = TmuxSession.start(`${process.execPath} ${CLI} ${args}`, { cwd, env });
  sessions.push(session);
  return session;
}

describe("init in a real terminal", () => {
  it("prompts, rejects a bad answer on screen, accepts defaults and writes clouddrove.yaml", async () => {
    const cwd = tempDir();
    const tty = start(cwd);
    await tty.waitFor(/AWS region/);
    tty.type("eu-west");
    await tty.waitFor(/AWS region code such as us-east-1/);
    tty.key("C-u");
    tty.type("eu-west-1");
    await tty.waitFor(/EKS cluster name/);
    tty.type(""); // accept the default "clouddrove"
    await tty.waitFor(/shared ReadWriteMany storage/);
    tty.type(""); // select: Enter takes the highlighted default (efs)
    await tty.waitFor(/EFS file system id/);
    tty.type("fs-0123456789abcdef0");
    await tty.waitFor(/CIDRs admitted/);
    tty.type("");
    await tty.waitFor(/TLS: private-ca/);
    tty.type(""); // the default: TLS from the private CA
    await tty.waitFor(/DNS name clients will use/);
    tty.type("");
    await tty.waitFor(/Backups: create/);
    tty.type(""); // select: the default, create
    await tty.waitFor(/S3 bucket for backups/);
    tty.type("");
    const screen = await tty.waitFor(/Wrote .*clouddrove\.yaml/);
    expect(screen).toContain("no secrets");
    expect(await tty.waitForExit()).toBe(0);
    const written = parse(readFileSync(join(cwd, "clouddrove.yaml"), "utf8"));
    expect(written).toEqual({
      cluster: { name: "clouddrove", region: "eu-west-1" },
      storage: { type: "efs", efs: { fileSystemId: "fs-0123456789abcdef0" } },
      tls: { mode: "private-ca" },
      backup: { setup: "create" },
    });
  });

  it("Ctrl-C at a prompt exits 130 without a stack trace and writes nothing", async () => {
    const cwd = tempDir();
    const tty = start(cwd);
    await tty.waitFor(/AWS region/);
    tty.key("C-c");
    expect(await tty.waitForExit()).toBe(130);
    const screen = tty.screen();
    expect(screen).toContain("Interrupted");
    expect(screen).not.toMatch(/\n\s+at /);
    expect(existsSync(join(cwd, "clouddrove.yaml"))).toBe(false);
  });
});
