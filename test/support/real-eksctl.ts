/**
 * The real eksctl, built from its Go module by `scripts/components.sh eksctl` into the components cache,
 * run with an environment of the test's choosing (nothing of the runner's AWS settings). Runs are
 * asynchronous: the AWS endpoint they talk to may live in the test's own process.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { componentsCacheDir, isExecutable } from "../../sandbox/src/runtime/registry-binaries.js";

/** The version scripts/components.sh builds (EKSCTL_VERSION there). */
export const EKSCTL_VERSION = "0.215.0";

export function realEksctl(): string {
  const binary = join(componentsCacheDir(), `eksctl-v${EKSCTL_VERSION}`, "bin", "eksctl");
  if (!isExecutable(binary))
    throw new Error(`eksctl ${EKSCTL_VERSION} is not built (${binary}): run scripts/components.sh eksctl`);
  return binary;
}

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

/** `eksctl ARGS` with the real eksctl, or the `binary` given (the fake). */
export function runEksctlBinary(
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; binary?: string },
): Promise<ProcessRun> {
  return runProcess(options.binary ?? realEksctl(), args, options);
}
