// `npm run bench`: every benchmark, one after another. Figures are medians or ratios over several runs
// (these machines are noisy); nothing here asserts — it reports. BENCH_ONLY=name runs one.
import { existsSync } from "node:fs";

const benches = ["startup", "sandbox", "deploy", "deploy-kubectl", "backup", "upgrade", "faults"];
const only = process.env.BENCH_ONLY;
for (const name of benches) {
  if (only && only !== name) continue;
  const file = new URL(`./${name}.mjs`, import.meta.url);
  if (!existsSync(file)) continue;
  const bench = await import(file.href);
  await bench.run();
}
