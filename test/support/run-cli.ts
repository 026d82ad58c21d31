/**
 * Runs the CLI in-process, as main() would for a user, with captured streams, a chosen environment
 * and (optionally) a scripted prompter standing in for the terminal.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { main } from "../../src/cli.js";
import type { Prompter } from "../../src/io/prompter.js";
import { runMark } from "./run-mark.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Pretend stdin and stderr are terminals (prompts allowed unless CI/--yes/...). */
  tty?: boolean;
  prompter?: Prompter;
  stdin?: string;
  /** Stands for Ctrl-C: abort it to interrupt the command between steps. */
  signal?: AbortSignal;
}

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString("utf8");
    done();
  }
}

export function tempDir(prefix = "clouddrove-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A clean environment: nothing from the developer's shell leaks into a test (no CI, no CLOUDDROVE_*). */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // CLOUDDROVE_TEST_RUN marks the sandboxes this run starts (test/support/no-leftover-sandboxes.ts).
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NO_COLOR: "1",
    ...runMark(),
    ...extra,
  };
}

export async function runCli(argv: string[], options: RunOptions = {}): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? "");
  const code = await main(argv, {
    stdin,
    stdout,
    stderr,
    env: options.env ?? cleanEnv(),
    cwd: options.cwd ?? tempDir(),
    stdinIsTTY: options.tty ?? false,
    stderrIsTTY: options.tty ?? false,
    prompter: options.prompter,
    signal: options.signal ?? new AbortController().signal,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
