// Small helpers shared by the benchmarks: wall-clock medians over repeated runs of a command, and the
// built CLI run in-process as CI runs it.
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { PassThrough, Writable } from "node:stream";

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Wall time (ms) of one run of `argv`; throws when it fails, so a broken command never looks fast. */
export function timeRun(argv, options = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${argv.join(" ")} exited ${result.status}: ${result.stderr}`);
  return ms;
}

/** Runs each named command `runs` times, interleaved (so machine noise hits all alike); medians in ms. */
export function interleavedMedians(commands, runs, options) {
  const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, argv] of Object.entries(commands)) samples[name].push(timeRun(argv, options));
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
}

export function printTable(title, rows) {
  console.log(`\n## ${title}`);
  for (const row of rows) console.log(`  ${row}`);
}

/** A writable stream that keeps what is written to it, in `.text`. */
export function textSink() {
  const stream = new Writable({
    write(chunk, _enc, done) {
      stream.text += chunk;
      done();
    },
  });
  stream.text = "";
  return stream;
}

/**
 * The built CLI (dist/) run in-process as in CI: no TTY, stdin at its end, an environment of PATH, CI and
 * the registry password plus `env`. Returns the exit code, the wall time in ms, and what it printed.
 */
export async function runCliInProcess(argv, env = {}) {
  const { main } = await import("../dist/cli.js");
  const stdout = textSink();
  const stderr = textSink();
  const stdin = new PassThrough();
  stdin.end();
  const started = process.hrtime.bigint();
  const code = await main(argv, {
    stdin,
    stdout,
    stderr,
    cwd: tmpdir(),
    stdinIsTTY: false,
    stderrIsTTY: false,
    env: {
      PATH: process.env.PATH,
      CI: "true",
      CLOUDDROVE_REGISTRY_PASSWORD: "benchmark-password-1",
      ...env,
    },
    signal: new AbortController().signal,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { code, ms, stdout: stdout.text, stderr: stderr.text };
}
