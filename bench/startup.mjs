// CLI start-up cost as a ratio to bare Node start-up (median of interleaved runs).
// Targets: `--version` within 1.5x and `deploy --dry-run -o yaml` within 3x of `node -e 0`.
import { fileURLToPath } from "node:url";
import { interleavedMedians, printTable } from "./lib.mjs";

const cli = fileURLToPath(new URL("../bin/clouddrove.js", import.meta.url));
const example = fileURLToPath(new URL("../examples/clouddrove.yaml", import.meta.url));

export async function run({ runs = Number(process.env.BENCH_RUNS ?? 15) } = {}) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, CI: "true", NO_COLOR: "1" };
  const medians = interleavedMedians(
    {
      node: [process.execPath, "-e", "0"],
      version: [process.execPath, cli, "--version"],
      dryRun: [process.execPath, cli, "--config", example, "deploy", "--dry-run", "-o", "yaml"],
    },
    runs,
    { env },
  );
  const versionRatio = medians.version / medians.node;
  const dryRunRatio = medians.dryRun / medians.node;
  printTable(`start-up (median of ${runs} interleaved runs)`, [
    `node -e 0                    ${medians.node.toFixed(1)} ms`,
    `clouddrove --version         ${medians.version.toFixed(1)} ms  ratio ${versionRatio.toFixed(2)}x (target <= 1.5x)`,
    `clouddrove deploy --dry-run  ${medians.dryRun.toFixed(1)} ms  ratio ${dryRunRatio.toFixed(2)}x (target <= 3x)`,
  ]);
  return { medians, versionRatio, dryRunRatio };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
