// `clouddrove upgrade --all-nodes` against sandboxes of 3, 30 and 100 nodes: wall time beyond the
// sandbox's simulated delays, and Kubernetes API requests per node upgraded (target: linear in nodes —
// a constant number per node — and no polling loops: waits are watches). The sandbox runs at a very high
// speed so that its simulated delays (grace periods, readiness, the rollout) shrink to almost nothing; what
// remains is the upgrade's own work and its round trips. The bump is `--upgrade-command true` (the
// drain/uncordon/gate cycle is what scales with nodes), without the registry's port-forward checks; one
// extra line on 3 nodes shows what those checks cost.
//
//   CLOUDDROVE_BENCH_UPGRADE_NODES   comma-separated sandbox sizes (default 3,30,100)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { printTable, runCliInProcess } from "./lib.mjs";

const { startSandbox } = await import("../sandbox/dist/index.js");

const VERBS = ["get", "list", "watch", "create", "patch", "update", "delete"];

async function cli(argv, env = {}) {
  const { code, ms, stdout, stderr } = await runCliInProcess(argv, {
    CLOUDDROVE_EVICTION_RETRY_MS: "100",
    ...env,
  });
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${stderr.slice(-2000)}`);
  return { ms, stdout };
}

async function measure(nodes, registryCheck) {
  const dir = mkdtempSync(join(tmpdir(), "clouddrove-bench-upgrade-"));
  const sandbox = await startSandbox({ speed: 10_000, nodes });
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, sandbox.kubeconfig());
  try {
    await cli([
      "--kubeconfig",
      kubeconfig,
      "deploy",
      "--yes",
      "--no-smoke-test",
      "--efs-file-system-id",
      "fs-0123456789abcdef0",
    ]);
    // Zero-latency rules count requests per verb without changing them.
    const counters = Object.fromEntries(
      VERBS.map((verb) => [verb, sandbox.faults.add({ verbs: [verb], action: { type: "latency", ms: 0 } })]),
    );
    const total = sandbox.faults.state().requests;
    const { ms, stdout } = await cli([
      "--kubeconfig",
      kubeconfig,
      "-o",
      "json",
      "upgrade",
      "--yes",
      "--all-nodes",
      "--upgrade-command",
      "true",
      ...(registryCheck ? [] : ["--no-registry-check"]),
    ]);
    const report = JSON.parse(stdout);
    const requests = sandbox.faults.state().requests - total;
    const counts = Object.fromEntries(VERBS.map((verb) => [verb, counters[verb].hits]));
    return {
      ms,
      requests,
      counts,
      upgraded: report.nodes.length,
      minReady: report.availability.minReadyReplicas,
    };
  } finally {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run() {
  const sizes = (process.env.CLOUDDROVE_BENCH_UPGRADE_NODES ?? "3,30,100").split(",").map(Number);
  const rows = [];
  const line = (label, r) =>
    `${label.padEnd(28)} ${(r.ms / 1000).toFixed(1).padStart(6)} s total, ${(r.ms / r.upgraded).toFixed(0).padStart(5)} ms/node, ` +
    `${(r.requests / r.upgraded).toFixed(1).padStart(5)} requests/node (${VERBS.filter((v) => r.counts[v])
      .map((v) => `${v} ${(r.counts[v] / r.upgraded).toFixed(1)}`)
      .join(", ")}), min ready ${r.minReady}`;
  for (const nodes of sizes) {
    const r = await measure(nodes, false);
    rows.push(line(`${nodes} nodes`, r));
  }
  const checked = await measure(3, true);
  rows.push(line("3 nodes, registry checks on", checked));
  printTable(
    "upgrade --all-nodes: wall time at speed 10000 (simulated delays ~0) and API requests per node",
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
