// The fault matrix: `deploy`, `status` and `upgrade --node` against the sandbox while its API server
// answers a share of requests with 5xx (500 and 503, half each) or 429, or cuts watches every few
// events. Per cell: the success rate and the median wall time of each command over N runs, and what two
// upgrades started at once leave behind (one upgraded node, no node cordoned, the upgrade state usable
// by the next run). It prints; it asserts nothing.
//
//   CLOUDDROVE_BENCH_FAULT_RUNS    runs per command and cell (default 10)
//   CLOUDDROVE_BENCH_FAULT_CELLS   comma-separated cell names to run (default: all)
//   CLOUDDROVE_BENCH_FAULT_SPEED   the sandbox's speed (default 200, as the sandbox tests run it; at 1000,
//                                  where probe periods are 10 ms of real time against real registry
//                                  processes, a fresh deploy once found 2 of 3 replicas ready right after
//                                  its rollout, and one health gate 2/3: not seen at 200, cause not settled)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, printTable, runCliInProcess } from "./lib.mjs";

const { startSandbox } = await import("../sandbox/dist/index.js");

const SPEED = Number(process.env.CLOUDDROVE_BENCH_FAULT_SPEED ?? 200);
const EFS = ["--efs-file-system-id", "fs-0123456789abcdef0"];
const NAMESPACE = "clouddrove";

/** Two rules whose combined chance is `share`: 500 first (share/2), then 503 on the rest. */
function serverErrors(share) {
  const first = share / 2;
  return [
    { verbs: ["*"], probability: first, action: { type: "error", status: 500 } },
    {
      verbs: ["*"],
      probability: first / (1 - first),
      action: { type: "error", status: 503, retryAfterSeconds: 1 },
    },
  ];
}

const CELLS = [
  { name: "no faults", rules: [] },
  { name: "10% 5xx", rules: serverErrors(0.1) },
  { name: "30% 5xx", rules: serverErrors(0.3) },
  {
    name: "50% 429",
    rules: [{ verbs: ["*"], probability: 0.5, action: { type: "error", status: 429, retryAfterSeconds: 1 } }],
  },
  {
    name: "watches cut every 3 events",
    rules: [{ verbs: ["watch"], action: { type: "cutWatch", afterEvents: 3, mode: "reset" } }],
  },
];

const ready = (o) => (o.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

async function timed(argv) {
  const { code, ms, stderr } = await runCliInProcess(argv, { CLOUDDROVE_EVICTION_RETRY_MS: "100" });
  // Progress on stderr (a cell can take minutes); the table goes to stdout at the end.
  const command = argv.slice(2, 4).join(" ");
  process.stderr.write(`  ${command}: exit ${code} in ${(ms / 1000).toFixed(1)} s\n`);
  return { ok: code === 0, code, ms, error: code === 0 ? undefined : lastLines(stderr) };
}

const lastLines = (text) => text.trim().split("\n").slice(-3).join(" | ").slice(0, 400);

/** The nodes that carry a registry replica, by name. */
function registryNodes(sandbox) {
  return [
    ...new Set(
      sandbox.store
        .list("Pod", { namespace: NAMESPACE })
        .filter((p) => p.metadata.labels?.["app.kubernetes.io/component"] === "registry")
        .map((p) => p.spec.nodeName)
        .filter(Boolean),
    ),
  ].sort();
}

function summary(samples) {
  const ok = samples.filter((s) => s.ok);
  const rate = `${ok.length}/${samples.length}`;
  const ms = ok.length ? `${(median(ok.map((s) => s.ms)) / 1000).toFixed(1)} s` : "-";
  return { rate, ms, errors: samples.filter((s) => !s.ok).map((s) => `exit ${s.code}: ${s.error}`) };
}

async function cell({ name, rules }, runs) {
  const dir = mkdtempSync(join(tmpdir(), "clouddrove-bench-faults-"));
  const sandbox = await startSandbox({ speed: SPEED });
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, sandbox.kubeconfig());
  const base = ["--kubeconfig", kubeconfig];
  const samples = { deploy: [], status: [], upgrade: [] };
  let concurrent = "not run";
  try {
    for (const rule of rules) sandbox.faults.add(rule);
    // The first deploy is a fresh one; the others deploy over it (each waits for its rollout again).
    for (let i = 0; i < runs; i++) {
      samples.deploy.push(await timed([...base, "deploy", "--yes", "--no-smoke-test", ...EFS]));
    }
    if (!samples.deploy.some((s) => s.ok)) return { name, samples, concurrent: "no deploy succeeded" };
    for (let i = 0; i < runs; i++) samples.status.push(await timed([...base, "status"]));
    const nodes = sandbox.store
      .list("Node")
      .map((n) => n.metadata.name)
      .sort();
    for (let i = 0; i < runs; i++) {
      const node = nodes[i % nodes.length];
      samples.upgrade.push(
        await timed([...base, "upgrade", "--yes", "--node", node, "--upgrade-command", "true"]),
      );
    }
    concurrent = await twoUpgrades(sandbox, base);
  } finally {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { name, samples, concurrent };
}

/** Two upgrades at once, then what they left: cordoned nodes, and whether a next upgrade goes through. */
async function twoUpgrades(sandbox, base) {
  const [a, b] = registryNodes(sandbox);
  if (!a || !b) return "fewer than two nodes with a replica";
  const runs = await Promise.all(
    [a, b].map((node) => timed([...base, "upgrade", "--yes", "--node", node, "--upgrade-command", "true"])),
  );
  const cordoned = sandbox.store
    .list("Node")
    .filter((n) => n.spec?.unschedulable)
    .map((n) => n.metadata.name);
  const upgraded = runs.filter((r) => r.ok).length;
  // Usable state: a next upgrade (of the node not upgraded) is not refused by what the two left.
  const next = await timed([...base, "upgrade", "--yes", "--node", b, "--upgrade-command", "true"]);
  const notReady = sandbox.store.list("Node").filter((n) => !ready(n)).length;
  return (
    `exits ${runs.map((r) => r.code).join("/")}, ${upgraded} upgraded, cordoned after: ${cordoned.length ? cordoned.join(",") : "none"}` +
    `, next upgrade: ${next.ok ? "ok" : `exit ${next.code} (${next.error})`}${notReady ? `, ${notReady} node(s) NotReady` : ""}`
  );
}

export async function run() {
  const runs = Number(process.env.CLOUDDROVE_BENCH_FAULT_RUNS ?? 10);
  const only = process.env.CLOUDDROVE_BENCH_FAULT_CELLS?.split(",").map((s) => s.trim());
  const rows = [];
  const failures = [];
  for (const c of CELLS) {
    if (only && !only.includes(c.name)) continue;
    process.stderr.write(`cell: ${c.name}\n`);
    const result = await cell(c, runs);
    const [d, s, u] = ["deploy", "status", "upgrade"].map((k) => summary(result.samples[k]));
    rows.push(
      `${result.name.padEnd(27)} deploy ${d.rate.padStart(5)} ${d.ms.padStart(7)} | status ${s.rate.padStart(5)} ${s.ms.padStart(7)} | upgrade --node ${u.rate.padStart(5)} ${u.ms.padStart(7)}`,
      `${"".padEnd(27)} two upgrades at once: ${result.concurrent}`,
    );
    for (const [command, x] of [
      ["deploy", d],
      ["status", s],
      ["upgrade", u],
    ]) {
      for (const error of x.errors) failures.push(`${result.name}, ${command}: ${error}`);
    }
  }
  printTable(
    `fault matrix on the sandbox (speed ${SPEED}): success rate and median wall time of the successful runs, ${runs} run(s) per command and cell`,
    rows,
  );
  if (failures.length) printTable("failed runs (last lines of stderr)", failures);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
