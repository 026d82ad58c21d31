// Build step: the CLI that bin/clouddrove.js runs, bundled from tsc's output (dist/) into dist/bundle/.
// Node 20's ES module loader pays for every file it resolves and links (an open, stat, read and close
// through the thread pool, then a compile), and a dry run used to load some sixty of them. Bundled with
// code splitting, each command still loads only what it uses, in a handful of chunks.
//
// Rollup rather than esbuild: esbuild makes one chunk per set of entry points sharing a module, and the
// CLI's lazy imports (one per command and per heavy step) made a dry run load 28 of them. Rollup knows a
// module a lazily loaded chunk shares with its importer is already loaded, and merges chunks smaller than
// MIN_CHUNK into their neighbours (experimentalMinChunkSize), so a dry run loads about half as many.
//
// commander (CommonJS) and chalk, on every command's path, are bundled; the other dependencies stay in
// node_modules (large, and loaded only by the commands that need them). Each file's source map from tsc
// is carried through, so --verbose stack traces point into src/.
import { existsSync, readFileSync, rmSync } from "node:fs";
import commonjs from "@rollup/plugin-commonjs";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import { rollup } from "rollup";

const MIN_CHUNK = 30_000; // bytes: 8000 left 16 files on a dry run's path, 30000 leaves 14 (bench/startup.mjs)

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const bundled = new Set(["commander", "chalk"]);
const externalPackages = [
  ...Object.keys(pkg.dependencies),
  ...Object.keys(pkg.peerDependencies ?? {}),
].filter((name) => !bundled.has(name));
const isExternal = (id) =>
  id.startsWith("node:") || externalPackages.some((name) => id === name || id.startsWith(`${name}/`));

/** Hands rollup each tsc output file with its source map, so the bundle's maps lead back to src/. */
const tscSourceMaps = {
  name: "tsc-source-maps",
  load(id) {
    if (!id.endsWith(".js") || !existsSync(`${id}.map`)) return null;
    const code = readFileSync(id, "utf8").replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n");
    return { code, map: readFileSync(`${id}.map`, "utf8") };
  },
};

const outdir = new URL("dist/bundle/", root).pathname;
rmSync(outdir, { recursive: true, force: true });
const bundle = await rollup({
  input: new URL("dist/cli.js", root).pathname,
  external: isExternal,
  treeshake: false,
  logLevel: "warn",
  plugins: [tscSourceMaps, nodeResolve({ preferBuiltins: true }), commonjs()],
  onwarn(warning, warn) {
    // Cycles between the CLI's own modules are resolved at run time, as in tsc's output.
    if (warning.code === "CIRCULAR_DEPENDENCY") return;
    warn(warning);
  },
});
await bundle.write({
  dir: outdir,
  format: "es",
  sourcemap: true,
  entryFileNames: "[name].js",
  chunkFileNames: "[name]-[hash].js",
  experimentalMinChunkSize: MIN_CHUNK,
});
await bundle.close();
