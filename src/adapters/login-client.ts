/**
 * The container tools on this machine that `clouddrove login` logs in: finding one on PATH, and running
 * its `login` with the password on stdin (never on its command line, where `ps` and shell history would
 * show it).
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { execa } from "execa";

/** The first executable called `name` on the PATH of `env`, or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export interface LoginRun {
  ok: boolean;
  exitCode?: number;
  /** What the tool printed (stdout, then stderr), the password replaced should a tool ever echo it. */
  output: string;
}

export async function runLoginWithStdin(
  binary: string,
  args: string[],
  password: string,
  options: { env: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal },
): Promise<LoginRun> {
  const result = await execa(binary, args, {
    input: password,
    env: options.env,
    extendEnv: false,
    reject: false,
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
  });
  const output = [result.stdout, result.stderr]
    .map((text) => String(text ?? "").trim())
    .filter((text) => text !== "")
    .join("\n")
    .replaceAll(password, "********");
  return { ok: !result.failed, exitCode: result.exitCode, output };
}
