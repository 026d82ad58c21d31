// A deploy that changes nothing, against what a user would run instead: `kubectl apply --server-side` of
// the same objects, `kubectl rollout status` and `kubectl wait` for the claim, against one running sandbox
// (started with `up`, as users do). Wall time (median) and peak resident memory (GNU time's %M: the
// largest process of the command) of each, interleaved so the machine's noise hits both alike.
// Targets: deploy <= 1.2x kubectl's wall time and <= 80 MiB. Secrets are left out of kubectl's file: the
// dry run masks them (and could not know the cluster's password), and applying them would change them.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, printTable } from "./lib.mjs";

const { up, down } = await import("../sandbox/dist/index.js");
const CLI = fileURLToPath(new URL("../bin/clouddrove.js", import.meta.url));
const EFS = "fs-05a4db0c5a4db0c5a";

function timed(argv, env) {
  const result = spawnSync("/usr/bin/time", ["-f", "%e %M", ...argv], { encoding: "utf8", env });
  if (result.status !== 0) throw new Error(`${argv.join(" ")} exited ${result.status}: ${result.stderr}`);
  const [seconds, kib] = result.stderr.trim().split("\n").at(-1).split(" ").map(Number);
  return { ms: seconds * 1000, mib: kib / 1024 };
}

export async function run({ runs = Number(process.env.BENCH_RUNS ?? 7) } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "clouddrove-bench-kubectl-"));
  const stateDir = join(dir, "sandbox");
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    CI: "true",
    CLOUDDROVE_REGISTRY_PASSWORD: "benchmark-password-1",
  };
  const sandbox = await up({ stateDir, speed: 200, env });
  try {
    const reach = ["--kubeconfig", sandbox.kubeconfig, "--context", sandbox.context];
    const clouddrove = [process.execPath, CLI, ...reach, "deploy", "--yes", "--efs-file-system-id", EFS];
    const first = spawnSync(clouddrove[0], clouddrove.slice(1), { encoding: "utf8", env, cwd: dir });
    if (first.status !== 0) throw new Error(`the first deploy failed: ${first.stderr}`);
    const rendered = spawnSync(
      process.execPath,
      [CLI, "deploy", "--dry-run", "-o", "json", "--efs-file-system-id", EFS],
      { encoding: "utf8", env, cwd: dir },
    );
    if (rendered.status !== 0) throw new Error(`the dry run failed: ${rendered.stderr}`);
    const objects = JSON.parse(rendered.stdout);
    const items = (Array.isArray(objects) ? objects : (objects.items ?? objects.objects)).filter(
      (o) => o.kind !== "Secret",
    );
    // The pod template's checksum covers the htpasswd file, whose bcrypt salt the dry run cannot know:
    // kubectl gets the one the cluster runs, or every apply would roll the registry (and the next deploy
    // roll it back), and both sides would be timing rollouts instead of a no-op.
    const live = spawnSync(
      "kubectl",
      [
        ...reach,
        "-n",
        "clouddrove",
        "get",
        "deployment/registry-clouddrove",
        "-o",
        "jsonpath={.spec.template.metadata.annotations}",
      ],
      { encoding: "utf8", env },
    );
    if (live.status !== 0) throw new Error(`reading the Deployment failed: ${live.stderr}`);
    const deployment = items.find((o) => o.kind === "Deployment");
    deployment.spec.template.metadata.annotations = JSON.parse(live.stdout);
    const file = join(dir, "objects.yaml");
    // A YAML stream of JSON documents: the form `kubectl apply -f` takes object by object.
    writeFileSync(file, items.map((item) => JSON.stringify(item)).join("\n---\n"));
    const k = `kubectl --kubeconfig ${sandbox.kubeconfig} --context ${sandbox.context}`;
    const kubectl = [
      "sh",
      "-c",
      `${k} apply --server-side --field-manager clouddrove -f ${file} >/dev/null && ` +
        `${k} -n clouddrove rollout status deployment/registry-clouddrove >/dev/null && ` +
        `${k} -n clouddrove wait pvc/registry-clouddrove-data --for=jsonpath='{.status.phase}'=Bound >/dev/null`,
    ];
    const commands = {
      "deploy (no-op, with smoke test)": clouddrove,
      "deploy (no-op, --no-smoke-test)": [...clouddrove, "--no-smoke-test"],
      "kubectl apply + rollout status + wait": kubectl,
    };
    const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
    for (let i = 0; i < runs; i++) {
      for (const [name, argv] of Object.entries(commands)) samples[name].push(timed(argv, env));
    }
    const base = samples["kubectl apply + rollout status + wait"];
    const baseMs = median(base.map((s) => s.ms));
    const rows = Object.entries(samples).map(([name, list]) => {
      const ms = median(list.map((s) => s.ms));
      const mib = Math.max(...list.map((s) => s.mib));
      return `${name.padEnd(40)} ${ms.toFixed(0).padStart(6)} ms  ${(ms / baseMs).toFixed(2)}x  peak ${mib.toFixed(0)} MiB`;
    });
    rows.push(`objects applied by kubectl: ${items.length} (every rendered object but the Secrets)`);
    rows.push("targets: deploy <= 1.2x kubectl's wall time, <= 80 MiB peak");
    printTable(`a no-op deploy against kubectl, one running sandbox (median of ${runs})`, rows);
  } finally {
    await down(stateDir);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
