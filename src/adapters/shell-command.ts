/**
 * A command line of the user's (`upgrade --upgrade-command`), run by the shell with exactly the
 * environment given: its output lines streamed to `onLine` as they come, the last ones kept for the
 * error message, a time limit, and Ctrl-C.
 */
import { execa } from "execa";

export interface ShellCommandResult {
  ok: boolean;
  canceled: boolean;
  timedOut: boolean;
  exitCode?: number;
  /** The last 50 lines it printed (stdout and stderr as they came). */
  lastLines: string[];
}

export async function runShellCommand(
  command: string,
  options: {
    env: NodeJS.ProcessEnv;
    cwd: string;
    timeoutMs: number;
    signal?: AbortSignal;
    onLine: (line: string) => void;
  },
): Promise<ShellCommandResult> {
  const lines: string[] = [];
  const tap = function* (line: unknown) {
    const text = String(line);
    lines.push(text);
    if (lines.length > 50) lines.shift();
    options.onLine(text);
    yield text;
  };
  const result = await execa(command, {
    shell: true,
    env: options.env,
    extendEnv: false,
    cwd: options.cwd,
    stdin: "ignore",
    stdout: [tap],
    stderr: [tap],
    reject: false,
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
  });
  return {
    ok: !result.failed,
    canceled: result.isCanceled,
    timedOut: Boolean(result.timedOut),
    exitCode: result.exitCode,
    lastLines: lines,
  };
}
