/**
 * Running eksctl: argument arrays through execa (never a shell string), its log lines streamed to the
 * caller as they come, one deadline per run, Ctrl-C forwarded, and failures turned into errors whose hint
 * names the fix (core/cluster/eksctl-output.ts).
 */
import { execa } from "execa";
import { type EksctlLine, explainEksctlFailure, parseEksctlLine } from "../core/cluster/eksctl-output.js";
import { eksctlCommandLine } from "../core/cluster/plan.js";
import { checkEksctlVersion } from "../core/cluster/preflight.js";
import { InterruptedError, UsageError } from "../errors.js";

export interface EksctlEnvironment {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface EksctlRunOptions extends EksctlEnvironment {
  timeoutMs: number;
  /** The timeout as the user wrote it (e.g. "45m"), for messages. */
  timeoutText?: string;
  signal?: AbortSignal;
  /** Each line eksctl prints, stdout and stderr, as it arrives. */
  onLine?: (line: EksctlLine) => void;
  /** For hints naming a rerun or a cleanup. */
  context?: { cluster?: string; region?: string; zones?: string[] };
}

export interface EksctlResult {
  lines: EksctlLine[];
  stdout: string;
}

const INSTALL_HINT =
  "Install eksctl (https://eksctl.io/installation/) and make sure `eksctl version` works in this shell (PATH).";

/** `eksctl version`, checked against clouddrove's minimum. Missing or too old is exit 2. */
export async function eksctlVersion(environment: EksctlEnvironment): Promise<string> {
  const result = await execa("eksctl", ["version"], {
    env: environment.env,
    extendEnv: false,
    cwd: environment.cwd,
    reject: false,
    timeout: 30_000,
  });
  if (result.failed && (result as { code?: string }).code === "ENOENT") {
    throw new UsageError("eksctl is not installed (not found on PATH).", { hint: INSTALL_HINT });
  }
  if (result.exitCode !== 0) {
    throw new UsageError(`\`eksctl version\` failed: ${String(result.stderr || result.stdout).trim()}`, {
      hint: INSTALL_HINT,
    });
  }
  return checkEksctlVersion(String(result.stdout));
}

export async function runEksctl(args: string[], options: EksctlRunOptions): Promise<EksctlResult> {
  const lines: EksctlLine[] = [];
  // execa's generator transforms see the output one line at a time, as it arrives.
  const tap = function* (raw: unknown) {
    const text = String(raw);
    if (text.trim() !== "") {
      const line = parseEksctlLine(text);
      lines.push(line);
      options.onLine?.(line);
    }
    yield text;
  };
  const result = await execa("eksctl", args, {
    env: options.env,
    extendEnv: false,
    cwd: options.cwd,
    reject: false,
    stdin: "ignore",
    stdout: [tap],
    stderr: [tap],
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
    // eksctl handles SIGINT itself (it stops waiting and says what is left running).
    killSignal: "SIGINT",
    forceKillAfterDelay: 10_000,
  });
  const command = eksctlCommandLine(args);

  if (result.isCanceled) {
    throw new InterruptedError(`Interrupted while running \`${command}\`.`, {
      hint: "CloudFormation may still be working; run the same clouddrove command again to reconcile, or `clouddrove cluster delete`.",
    });
  }
  if ((result as { code?: string }).code === "ENOENT") {
    throw new UsageError("eksctl is not installed (not found on PATH).", { hint: INSTALL_HINT });
  }
  if (result.failed) {
    throw explainEksctlFailure({
      command,
      exitCode: result.exitCode,
      lines,
      stderr: String(result.stderr ?? ""),
      timedOut: result.timedOut,
      timeoutText: options.timeoutText,
      cluster: options.context?.cluster,
      region: options.context?.region,
      zones: options.context?.zones,
    });
  }
  return { lines, stdout: String(result.stdout ?? "") };
}
