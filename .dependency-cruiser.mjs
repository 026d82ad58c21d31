/**
 * The layers of src/, checked by `npm run lint` (docs/architecture.md explains each rule).
 * Data flows one way: argv -> commands/ -> config/ (options) -> core/ (plan) -> steps/ -> adapters/,
 * and the report goes out through io/. The sandbox is its own workspace package (sandbox/,
 * @clouddrove/sandbox) and outside these rules: only src/ is cruised, and only the imports into it are checked.
 *
 * "A value import" is one that is still there after compilation (preCompilationOnly: false):
 * `import type`, `import { type X }` alone and `import("…").X` in a type position are not.
 */

/** The sandbox package: its workspace folder (where tsconfig's paths and npm's link lead), or a copy. */
const SANDBOX = ["^sandbox/", "(^|/)node_modules/@clouddrove/sandbox/"];
/** The clients of the outside world that only adapters/ may load. */
const OUTSIDE_WORLD_PACKAGES = [
  "(^|/)node_modules/@kubernetes/client-node/",
  "(^|/)node_modules/execa/",
  "(^|/)node_modules/@aws-sdk/",
];

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment:
        "An import cycle (type-only edges count): two modules that need each other are one module, or share a " +
        "third that both should import.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "no-folder-cycles-within-a-layer",
      severity: "error",
      comment:
        "The feature folders of one layer (core/render, core/upgrade, steps/deploy, …) may build on each other " +
        "one way only: two folders that import each other are one feature, or share a part that belongs below both.",
      scope: "folder",
      from: { path: "^src/(core|steps|adapters)(/|$)" },
      to: { path: "^src/(core|steps|adapters)(/|$)", circular: true },
    },
    {
      name: "commands-only-from-cli",
      severity: "error",
      comment:
        "commands/ is the top layer: only src/cli.ts and other commands import it. Options (config/), plans " +
        "(core/) and steps take what they need as parameters instead.",
      from: { path: "^src/", pathNot: ["^src/commands/", "^src/cli\\.ts$"] },
      to: { path: "^src/commands/" },
    },
    {
      name: "steps-not-upward",
      severity: "error",
      comment:
        "steps/ may import core/, adapters/, errors and other steps. They never prompt or print (no io/) and " +
        "never know about the command line (no cli.ts).",
      from: { path: "^src/steps/" },
      to: { path: ["^src/io/", "^src/cli\\.ts$"] },
    },
    {
      name: "steps-config-types-only",
      severity: "error",
      comment:
        "steps/ run with the options the command resolved; they may name config/'s types (Config) but not " +
        "load, resolve or write settings.",
      from: { path: "^src/steps/" },
      to: { path: "^src/config/", preCompilationOnly: false },
    },
    {
      name: "core-is-pure",
      severity: "error",
      comment:
        "core/ is pure logic: it imports neither io/ (terminal, colour), adapters/ (the outside world), steps/ " +
        "nor cli.ts. Whatever it needs from them is passed in as data or as a function.",
      from: { path: "^src/core/" },
      to: { path: ["^src/io/", "^src/adapters/", "^src/steps/", "^src/cli\\.ts$"] },
    },
    {
      name: "core-config-types-only",
      severity: "error",
      comment:
        "core/ computes from the resolved options (config/'s types) but does not load or resolve them: config/ " +
        "imports core/'s validators and parsers, so a value import back would make the two one layer.",
      from: { path: "^src/core/" },
      to: { path: "^src/config/", preCompilationOnly: false },
    },
    {
      name: "config-not-below",
      severity: "error",
      comment:
        "config/ turns flags, environment, file and prompts into options. It may use core/ (validators, YAML) " +
        "and io/'s types (the Prompter it is handed), not steps/ or adapters/.",
      from: { path: "^src/config/" },
      to: { path: ["^src/steps/", "^src/adapters/", "^src/cli\\.ts$"] },
    },
    {
      name: "config-io-types-only",
      severity: "error",
      comment: "config/ is handed a Prompter; it does not open the terminal itself.",
      from: { path: "^src/config/" },
      to: { path: "^src/io/", preCompilationOnly: false },
    },
    {
      name: "io-is-a-leaf",
      severity: "error",
      comment:
        "io/ (terminal facts, prompter, output, task renderer, colour) serves the commands; it may use core/ " +
        "(the YAML writer) and errors, nothing that knows about options, steps or the outside world.",
      from: { path: "^src/io/" },
      to: { path: ["^src/config/", "^src/steps/", "^src/adapters/", "^src/cli\\.ts$"] },
    },
    {
      name: "adapters-only-below-steps",
      severity: "error",
      comment:
        "adapters/ (the only code that touches the outside world) are used by steps/. core/, config/ and io/ " +
        "never import them, not even their types.",
      from: { path: "^src/", pathNot: "^src/(steps|adapters|commands)/" },
      to: { path: "^src/adapters/" },
    },
    {
      name: "commands-open-connections-only",
      severity: "error",
      comment:
        "commands/ may import adapters/' types, and values only from src/adapters/connect.ts: the functions that " +
        "open a connection (cluster, AWS clients, backup bucket) which the command hands to its steps and " +
        "closes. Every call through a connection is made by a step.",
      from: { path: "^src/commands/" },
      to: { path: "^src/adapters/", pathNot: "^src/adapters/connect\\.ts$", preCompilationOnly: false },
    },
    {
      name: "adapters-not-upward",
      severity: "error",
      comment:
        "adapters/ may use core/ (parsers, pure rules), errors and config/'s types; never steps/, commands/, " +
        "io/ or cli.ts.",
      from: { path: "^src/adapters/" },
      to: { path: ["^src/steps/", "^src/io/", "^src/cli\\.ts$"] },
    },
    {
      name: "adapters-config-types-only",
      severity: "error",
      comment:
        "adapters/ are handed what they need (a bucket target, a kubeconfig path); they never read settings.",
      from: { path: "^src/adapters/" },
      to: { path: "^src/config/", preCompilationOnly: false },
    },
    {
      name: "shared-leaves",
      severity: "error",
      comment: "errors.ts and package-files.ts are imported by every layer, so they import none.",
      from: { path: "^src/(errors|package-files)\\.ts$" },
      to: { path: "^src/" },
    },
    {
      name: "outside-world-packages-only-in-adapters",
      severity: "error",
      comment:
        "Only adapters/ load @kubernetes/client-node, execa and @aws-sdk/*: everything else talks to the " +
        "cluster and AWS through an adapter. Types from them (V1Pod, …) are fine anywhere.",
      from: { path: "^src/", pathNot: "^src/adapters/" },
      to: { path: OUTSIDE_WORLD_PACKAGES, preCompilationOnly: false },
    },
    {
      name: "prompts-only-in-prompter",
      severity: "error",
      comment: "io/prompter.ts is the only importer of @inquirer/prompts (one place decides how to ask).",
      from: { path: "^src/", pathNot: "^src/io/prompter\\.ts$" },
      to: { path: "(^|/)node_modules/@inquirer/" },
    },
    {
      name: "sandbox-only-from-commands",
      severity: "error",
      comment:
        "Below commands/ there is one code path: a cluster through a kubeconfig, AWS through the SDK. Only " +
        "commands/ may start the sandbox (the @clouddrove/sandbox package).",
      from: { path: "^src/", pathNot: "^src/commands/" },
      to: { path: SANDBOX },
    },
    {
      name: "sandbox-by-package-name",
      severity: "error",
      comment:
        "The sandbox (sandbox/) is imported as the package @clouddrove/sandbox, whose entry names what it " +
        "offers, never by a path into its folder (an import by the name resolves through tsconfig's paths " +
        "or npm's workspace link).",
      from: { path: "^src/" },
      to: { path: "^sandbox/", dependencyTypesNot: ["aliased-tsconfig-paths", "aliased-workspace"] },
    },
  ],
  options: {
    // Only src/ is cruised (the lint script names it); packages and the sandbox package are not followed.
    doNotFollow: { path: ["(^|/)node_modules/", "^sandbox/"] },
    // tsconfig.json: NodeNext resolution, so "./x.js" in a .ts file resolves to ./x.ts.
    tsConfig: { fileName: "tsconfig.json" },
    // Keep type-only imports in the graph (they can form cycles too) and mark them preCompilationOnly.
    tsPreCompilationDeps: "specify",
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
