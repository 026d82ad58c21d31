#!/usr/bin/env node
// `--version` alone is answered here, before the CLI and its dependencies load: scripts call it often
// and it should cost no more than starting Node. Everything else goes through the CLI.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  const { readFileSync } = await import("node:fs");
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  process.stdout.write(`${pkg.version}\n`);
} else {
  // The CLI runs bundled (dist/bundle/); with --verbose, stack traces point into src/ through its source
  // maps. Turned on before the bundle loads: Node reads a module's map only when it compiles it.
  if (argv.includes("--verbose")) process.setSourceMapsEnabled(true);
  const { main } = await import("../dist/bundle/cli.js");
  process.exitCode = await main(argv);
}
