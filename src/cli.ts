/**
 * The commander program: global flags, the subcommands (their implementations imported lazily so that
 * `--version` and `--help` load almost nothing), and the one top-level catch that maps errors to exit codes.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { type AppIO, processIO, type RunState } from "./commands/context.js";
import { configureHelpAndErrors } from "./commands/help.js";
import { registerCommands } from "./commands/index.js";
import { ExitCode, InterruptedError, isClouddroveError } from "./errors.js";
import { colorEnabled } from "./io/env.js";
import { preparePainter } from "./io/paint.js";
import { isPromptInterrupt } from "./io/prompter.js";
import { packageFile } from "./package-files.js";

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(packageFile("package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** The program with the command argv runs (or all of them: see commands/index.ts). */
export async function buildProgram(
  io: AppIO,
  argv: readonly string[],
  state: RunState = { exitCode: 0 },
): Promise<Command> {
  const program = new Command("clouddrove")
    .description(
      "Stand up and keep alive a highly available private Docker registry on a regional EKS cluster.",
    )
    .version(packageVersion(), "-V, --version")
    .option("--config <file>", "configuration file (default: ./clouddrove.yaml when present)")
    .option(
      "--set <key=value>",
      "override a configuration key, e.g. --set storage.size=100Gi (repeatable)",
      collect,
      [],
    )
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to use")
    .option("-n, --namespace <name>", "namespace of the registry (default: clouddrove)")
    .option(
      "-y, --yes",
      "assume yes; never prompt (required settings must come from flags, env or file)",
      false,
    )
    .option("--no-input", "never prompt; fail with exit 2 naming what is missing")
    .addOption(
      new Option("-o, --output <format>", "result format on stdout")
        .choices(["text", "json", "yaml"])
        .default("text"),
    )
    .option("--verbose", "detailed progress, and stack traces on errors", false)
    .option("--no-color", "no colour (also NO_COLOR, TERM=dumb, non-terminal stderr)");
  await registerCommands(program, io, state, argv);
  configureHelpAndErrors(program, {
    out: (text) => io.stdout.write(text),
    err: (text) => io.stderr.write(text),
  });
  return program;
}

function report(error: unknown, io: AppIO, verbose: boolean): number {
  if (error instanceof CommanderError) {
    // --help and --version exit through here with code 0; usage errors were already printed (commands/help.ts).
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (isPromptInterrupt(error)) {
    return report(new InterruptedError("Interrupted at a prompt; nothing was changed."), io, false);
  }
  if (isClouddroveError(error)) {
    io.stderr.write(`Error: ${error.message}\n`);
    for (const line of error.details) io.stderr.write(`  - ${line}\n`);
    if (error.hint) io.stderr.write(`Hint: ${error.hint}\n`);
    if (verbose && error.stack) io.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`Error: ${message}\n`);
  if (verbose && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  else
    io.stderr.write(
      "Hint: this is unexpected; run again with --verbose for the stack trace and report it.\n",
    );
  return ExitCode.failed;
}

/** Was `-o json` (`--output json`, `--output=json`, `-ojson`) given? Read from argv: parsing may have failed. */
function jsonRequested(argv: string[]): boolean {
  return argv.some(
    (arg, i) =>
      ((arg === "-o" || arg === "--output") && argv[i + 1] === "json") ||
      arg === "--output=json" ||
      arg === "-ojson",
  );
}

const CODE_NAMES: Record<number, string> = {
  [ExitCode.failed]: "failed",
  [ExitCode.usage]: "usage",
  [ExitCode.credentials]: "credentials",
  [ExitCode.interrupted]: "interrupted",
};

/** `{ ok: false, error: { code, message, hint } }`: what stderr said, as one JSON document. */
function errorDocument(error: unknown, exitCode: number) {
  const message =
    error instanceof CommanderError
      ? error.message.replace(/^error: /, "")
      : error instanceof Error
        ? error.message
        : String(error);
  const known = isClouddroveError(error) ? error : undefined;
  return {
    ok: false,
    error: {
      code: CODE_NAMES[exitCode] ?? "failed",
      exitCode,
      message,
      hint: known?.hint ?? null,
      details: known?.details ?? [],
    },
  };
}

/** Runs the CLI and returns the exit code (never calls process.exit, so tests can run it in-process). */
export async function main(argv: string[], io: AppIO = processIO()): Promise<number> {
  const verbose = argv.includes("--verbose");
  const controller = new AbortController();
  const onSigint = () => controller.abort(new InterruptedError());
  const ownsProcess = io.signal === undefined;
  const state: RunState = { exitCode: ExitCode.ok };
  if (ownsProcess) process.once("SIGINT", onSigint);
  try {
    // Colour can be on only with a terminal on stderr (or FORCE_COLOR); --no-color is not read yet, so
    // chalk may load without being used, never the other way round.
    await preparePainter(
      colorEnabled({ stdinIsTTY: io.stdinIsTTY, stderrIsTTY: io.stderrIsTTY, env: io.env }, {}),
    );
    const program = await buildProgram({ ...io, signal: io.signal ?? controller.signal }, argv, state);
    await program.parseAsync(argv, { from: "user" });
    return state.exitCode;
  } catch (error) {
    const code = report(error, io, verbose);
    // -o json: stdout carries one document, also when the command refused or failed before writing its own.
    if (code !== ExitCode.ok && !state.resultWritten && jsonRequested(argv)) {
      io.stdout.write(`${JSON.stringify(errorDocument(error, code), null, 2)}\n`);
    }
    return code;
  } finally {
    if (ownsProcess) {
      process.removeListener("SIGINT", onSigint);
      // The command is over: whatever still retries in its name (a read beside one that failed, in the same
      // Promise.all) stops now instead of keeping the process alive for the rest of its retry budget.
      controller.abort();
    }
  }
}
