// Build step: the CLI that bin/clouddrove.js runs, bundled from tsc's output (dist/) into dist/bundle/.
// Node 20's ES module loader pays for every file it resolves and links, and a dry run used to load some
// sixty of them; bundled, it loads a handful of chunks. Splitting keeps what each command imports lazily
// in chunks of its own, so a command still loads only what it uses. commander and chalk, on every
// command's path, are bundled; the other dependencies stay in node_modules (large, and loaded only by the
// commands that need them).
import { readFileSync, rmSync } from "node:fs";
import { build } from "esbuild";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const bundled = new Set(["commander", "chalk"]);
const external = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})]
  .filter((name) => !bundled.has(name))
  .flatMap((name) => [name, `${name}/*`]);

const outdir = new URL("dist/bundle/", root).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [new URL("dist/cli.js", root).pathname],
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  external,
  // commander is CommonJS: its require() calls of Node's modules need a require in an ES module.
  banner: {
    js: "import { createRequire as __cdCreateRequire } from 'node:module'; const require = __cdCreateRequire(import.meta.url);",
  },
  sourcemap: "linked",
  logLevel: "warning",
});
