/**
 * What every command receives: the streams and environment it runs in (so tests run commands
 * in-process), the parsed global flags, and the decisions io/env makes from them.
 */
import type { Command } from "commander";
import { canPrompt, colorEnabled, type OutputFormat, type RendererKind, rendererKind } from "../io/env.js";
import { Output } from "../io/output.js";
import { createInquirerPrompter, type Prompter } from "../io/prompter.js";

export interface AppIO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Tests inject a scripted prompter; otherwise @inquirer/prompts on stdin/stderr. */
  prompter?: Prompter;
  /** Ctrl-C between steps: aborted when SIGINT arrives (cli.ts wires it). */
  signal?: AbortSignal;
}

/** Set by a command that finishes without an error but must not exit 0 (e.g. `status` when unhealthy). */
export interface RunState {
  exitCode: number;
  /** Set once the command wrote its result: a failure after it prints no second JSON document. */
  resultWritten?: boolean;
}

export interface GlobalOptions {
  config?: string;
  set: string[];
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  yes: boolean;
  /** commander turns --no-input into input: false. */
  input: boolean;
  output: OutputFormat;
  verbose: boolean;
  color: boolean;
}

export interface CommandContext {
  io: AppIO;
  globals: GlobalOptions;
  /** May this run ask questions? Decided once, in io/env. */
  interactive: boolean;
  renderer: RendererKind;
  out: Output;
  prompter: Prompter;
  state: RunState;
}

export function processIO(): AppIO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
  };
}

export function createContext(io: AppIO, command: Command, state: RunState): CommandContext {
  const globals = command.optsWithGlobals() as GlobalOptions;
  const facts = { stdinIsTTY: io.stdinIsTTY, stderrIsTTY: io.stderrIsTTY, env: io.env };
  const flags = { yes: globals.yes, noInput: globals.input === false, output: globals.output };
  const color = colorEnabled(facts, { color: globals.color });
  return {
    io,
    globals,
    interactive: canPrompt(facts, flags),
    renderer: rendererKind(facts, globals),
    out: new Output(io, globals.output, color, globals.verbose, () => {
      state.resultWritten = true;
    }),
    prompter: io.prompter ?? createInquirerPrompter({ input: io.stdin, output: io.stderr }),
    state,
  };
}
