/**
 * Puts the recording fake eksctl (./eksctl beside this file) first on PATH for a test, and reads back
 * what it was asked to do.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const FAKE_EKSCTL_DIR = dirname(fileURLToPath(import.meta.url));

export interface EksctlCall {
  argv: string[];
  cwd: string;
  /** Content of the -f/--config-file file, keyed by the path given. */
  files: Record<string, string>;
}

export interface FakeEksctl {
  /** Environment variables that make clouddrove find and configure the fake. */
  env: NodeJS.ProcessEnv;
  recordDir: string;
  calls(): EksctlCall[];
}

const made: string[] = [];

/** A temp dir removed by removeTempDirs() (call it in afterEach). */
export function tempDir(prefix = "clouddrove-cluster-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function fakeEksctl(options: Record<string, string | undefined> = {}): FakeEksctl {
  const recordDir = tempDir("clouddrove-eksctl-calls-");
  const env: NodeJS.ProcessEnv = {
    PATH: `${FAKE_EKSCTL_DIR}${delimiter}${process.env.PATH ?? ""}`,
    FAKE_EKSCTL_RECORD_DIR: recordDir,
  };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) env[key] = value;
  return {
    env,
    recordDir,
    calls() {
      const file = join(recordDir, "calls.jsonl");
      if (!existsSync(file)) return [];
      return readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as EksctlCall);
    },
  };
}
