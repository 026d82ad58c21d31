/**
 * The real eksctl, built from its Go module by `scripts/components.sh eksctl` into the components cache,
 * run with an environment of the test's choosing (nothing of the runner's AWS settings). Runs are
 * asynchronous: the AWS endpoint they talk to may live in the test's own process.
 */
import { join } from "node:path";
import { componentsCacheDir, isExecutable } from "../../sandbox/src/runtime/registry-binaries.js";
import { type ProcessRun, runProcess } from "./process-run.js";

/** The version scripts/components.sh builds (EKSCTL_VERSION there). */
export const EKSCTL_VERSION = "0.215.0";

export function realEksctl(): string {
  const binary = join(componentsCacheDir(), `eksctl-v${EKSCTL_VERSION}`, "bin", "eksctl");
  if (!isExecutable(binary))
    throw new Error(`eksctl ${EKSCTL_VERSION} is not built (${binary}): run scripts/components.sh eksctl`);
  return binary;
}

/** `eksctl ARGS` with the real eksctl, or the `binary` given (the fake). */
export function runEksctlBinary(
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; binary?: string },
): Promise<ProcessRun> {
  return runProcess(options.binary ?? realEksctl(), args, options);
}
