// Small helpers shared by the benchmarks: wall-clock medians over repeated runs of a command.
import { spawnSync } from "node:child_process";

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
