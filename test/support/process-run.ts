/**
 * A child process run to its end without blocking the test's event loop (a server the child talks to
 * may live in the test's own process), with exactly the environment given plus PATH and HOME.
 */
import { execFile } from "node:child_process";

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs BINARY ARGS in `cwd` with exactly `env` plus PATH and HOME (= cwd); never rejects. */
export function runProcess(
  binary: string,
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined> },
): Promise<ProcessRun> {
  return new Promise((resolve) => {
    execFile(
      binary,
      args,
      {
        cwd: options.cwd,
        env: { PATH: process.env.PATH, HOME: options.cwd, ...options.env },
        encoding: "utf8",
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
