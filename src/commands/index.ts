/**
 * The list of subcommands. Each module declares its flags (so --help is complete) and imports its heavy
 * dependencies only inside its action. Only commands that work are listed here.
 *
 * A run loads only the module of the command it runs: every module loaded costs start-up time, and
 * `deploy --dry-run` is meant to start about as fast as Node itself. Whenever the command cannot be told
 * from argv with certainty (help, a usage error, unusual flag forms), all of them are registered, which
 * is always right, only slower.
 */
import type { Command } from "commander";
import type { AppIO, RunState } from "./context.js";

type Register = (program: Command, io: AppIO, state: RunState) => void;

/** Every subcommand, in the order --help lists them. */
const COMMANDS: ReadonlyArray<{ name: string; load: () => Promise<Register> }> = [
  { name: "init", load: async () => (await import("./init.js")).registerInit },
  { name: "config", load: async () => (await import("./config.js")).registerConfig },
  { name: "cluster", load: async () => (await import("./cluster.js")).registerCluster },
  { name: "deploy", load: async () => (await import("./deploy.js")).registerDeploy },
  { name: "status", load: async () => (await import("./status.js")).registerStatus },
  { name: "backup", load: async () => (await import("./backup.js")).registerBackup },
  { name: "sandbox", load: async () => (await import("./sandbox.js")).registerSandbox },
  { name: "upgrade", load: async () => (await import("./upgrade.js")).registerUpgrade },
  { name: "gc", load: async () => (await import("./gc.js")).registerGc },
  { name: "trust", load: async () => (await import("./trust.js")).registerTrust },
  { name: "login", load: async () => (await import("./login.js")).registerLogin },
  { name: "completion", load: async () => (await import("./completion.js")).registerCompletion },
];

/** Commands that read the whole program (its other commands), so every command is registered for them. */
const NEEDS_ALL = new Set(["completion"]);

export const COMMAND_NAMES: readonly string[] = COMMANDS.map((command) => command.name);

/** Registers the command argv runs, or every command when that is not certain. */
export async function registerCommands(
  program: Command,
  io: AppIO,
  state: RunState,
  argv: readonly string[],
): Promise<void> {
  const named = commandInArgv(program, argv);
  const chosen =
    named === undefined || NEEDS_ALL.has(named)
      ? COMMANDS
      : COMMANDS.filter((command) => command.name === named);
  const registers = await Promise.all(chosen.map((command) => command.load()));
  for (const register of registers) register(program, io, state);
}

/**
 * The subcommand commander will run for argv, read past the program's own options: the first argument
 * that is neither one of them nor the value of one. Undefined when argv asks for help before naming a
 * command, names none, or uses a form this reading does not follow (an unknown option, "--", short
 * flags run together, an optional value).
 */
export function commandInArgv(program: Command, argv: readonly string[]): string | undefined {
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (!arg.startsWith("-") || arg === "-") return COMMAND_NAMES.includes(arg) ? arg : undefined;
    if (arg === "--" || arg === "-h" || arg === "--help") return undefined;
    const flag = arg.startsWith("--") ? arg.split("=", 1)[0] : arg;
    const option = program.options.find((o) => o.long === flag || o.short === flag);
    if (!option || option.optional) return undefined;
    // A required value is the next argument unless it came attached (--config=file).
    if (option.required && !arg.includes("=")) index++;
  }
  return undefined;
}
