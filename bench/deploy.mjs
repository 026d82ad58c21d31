// Deploy against the sandbox: API requests per deploy against the number of objects (target: at most one
// write per object, plus watches — no polling loops), and the wall time deploy adds beyond the sandbox's
// simulated delays with 20 ms of latency injected into every API request (target: under a second).
// The sandbox runs at a very high speed so its simulated delays (15 s readiness, ...) shrink to
// nothing: what remains is deploy's own work and its round trips.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, printTable, runCliInProcess } from "./lib.mjs";

const { startSandbox } = await import("../sandbox/dist/index.js");

const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"];

async function deployOnce(kubeconfig, extraEnv = {}) {
  const { code, ms, stdout } = await runCliInProcess(
    [
      "--kubeconfig",
      kubeconfig,
      "-o",
      "json",
      "deploy",
      "--yes",
      "--no-smoke-test",
      "--efs-file-system-id",
      "fs-0123456789abcdef0",
    ],
    extraEnv,
  );
  if (code !== 0) throw new Error(`deploy exited ${code}`);
  return { ms, report: JSON.parse(stdout) };
}

async function measure({ latencyMs, fresh }) {
  const dir = mkdtempSync(join(tmpdir(), "clouddrove-bench-"));
  const sandbox = await startSandbox({ speed: 10_000 });
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, sandbox.kubeconfig());
  try {
    if (!fresh) await deployOnce(kubeconfig);
    sandbox.faults.latencyMs = latencyMs;
    // Zero-latency rules count requests per verb without changing them.
    const counters = Object.fromEntries(
      VERBS.map((verb) => [verb, sandbox.faults.add({ verbs: [verb], action: { type: "latency", ms: 0 } })]),
    );
    const { ms, report } = await deployOnce(kubeconfig);
    const counts = Object.fromEntries(VERBS.map((verb) => [verb, counters[verb].hits]));
    return { ms, counts, objects: report.objects.length };
  } finally {
    await sandbox.stop();
  }
}

export async function run({ runs = Number(process.env.BENCH_RUNS ?? 5) } = {}) {
  const rows = [];
  for (const fresh of [true, false]) {
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(await measure({ latencyMs: 20, fresh }));
    const last = samples.at(-1);
    const writes = last.counts.create + last.counts.update + last.counts.patch + last.counts.delete;
    rows.push(
      `${fresh ? "first deploy " : "second deploy"}  ${median(samples.map((s) => s.ms)).toFixed(0)} ms median (20 ms latency per request, simulated delays ~0)`,
      `  objects ${last.objects}; writes ${writes} (${(writes / last.objects).toFixed(2)} per object, target <= 1); ` +
        `reads: get ${last.counts.get}, list ${last.counts.list}, watch ${last.counts.watch}`,
    );
  }
  printTable(`deploy on the sandbox (median of ${runs})`, rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
