/**
 * Drives the built CLI in a real pseudo-terminal through tmux: type with send-keys, read the screen
 * with capture-pane. Used for the end-to-end prompt tests (the in-process ones use a scripted prompter).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export { CLI } from "./built-cli.js";

export class TmuxSession {
  private constructor(
    readonly name: string,
    private readonly statusFile: string,
  ) {}

  /**
   * Starts `command` in a detached 160x50 session in `cwd`; env is passed explicitly. The shell around it
   * records the exit status in a file and then keeps the pane open, so the last screen stays readable
   * (tmux's own pane_dead_status proved unreliable for reading it back).
   */
  static start(command: string, options: { cwd: string; env: Record<string, string> }): TmuxSession {
    const name = `clouddrove-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const statusFile = join(mkdtempSync(join(tmpdir(), "clouddrove-tmux-")), "status");
    // `env -i`: the pane sees exactly options.env. tmux would otherwise merge in its global
    // environment (the test runner's, e.g. CI=true on a CI machine), which turns prompts off.
    const envAssignments = Object.entries(options.env).map(([k, v]) => shellQuote(`${k}=${v}`));
    const wrapped = `env -i ${envAssignments.join(" ")} ${command}; echo $? > ${statusFile}; sleep 600`;
    tmux(name, ["new-session", "-d", "-s", name, "-x", "160", "-y", "50", "-c", options.cwd, wrapped]);
    return new TmuxSession(name, statusFile);
  }

  screen(): string {
    return tmux(this.name, ["capture-pane", "-p", "-t", this.name]);
  }

  /** Literal text (no key-name interpretation), optionally followed by Enter. */
  type(text: string, enter = true): void {
    if (text !== "") tmux(this.name, ["send-keys", "-t", this.name, "-l", text]);
    if (enter) tmux(this.name, ["send-keys", "-t", this.name, "Enter"]);
  }

  key(name: string): void {
    tmux(this.name, ["send-keys", "-t", this.name, name]);
  }

  /** Waits (bounded) until the screen matches; returns the screen. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      last = this.screen();
      if (pattern.test(last)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`screen never matched ${pattern}; last screen:\n${last}`);
  }

  /** The exit status of the command once it has ended, else undefined. */
  exitStatus(): number | undefined {
    if (!existsSync(this.statusFile)) return undefined;
    const text = readFileSync(this.statusFile, "utf8").trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  }

  async waitForExit(timeoutMs = 15_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const status = this.exitStatus();
      if (status !== undefined) return status;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`command did not exit; screen:\n${this.screen()}`);
  }

  kill(): void {
    try {
      // The server leaves its socket file behind: remove it too.
      const socket = tmux(this.name, ["display-message", "-p", "#{socket_path}"]).trim();
      tmux(this.name, ["kill-server"]);
      if (socket) rmSync(socket, { force: true });
    } catch {
      // already gone
    }
  }
}

/**
 * tmux on a server of the session's own (-L: a socket named after it). On the shared default server, one
 * test's last session ending stopped the server while another test was starting its session there:
 * "server exited unexpectedly" (seen once in CI with two test workers).
 */
function tmux(session: string, args: string[]): string {
  return execFileSync("tmux", ["-L", session, ...args], { encoding: "utf8" });
}

/** Single-quotes a word for sh. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
