/**
 * A run registers only the command argv names (start-up time), so reading that name must agree with
 * commander, and anything uncertain must register everything.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli.js";
import type { AppIO } from "../../src/commands/context.js";
import { COMMAND_NAMES, commandInArgv } from "../../src/commands/index.js";

const io: AppIO = {
  stdin: new PassThrough(),
  stdout: new PassThrough(),
  stderr: new PassThrough(),
  env: {},
  cwd: process.cwd(),
  stdinIsTTY: false,
  stderrIsTTY: false,
};

async function registered(argv: string[]): Promise<string[]> {
  const program = await buildProgram(io, argv);
  return program.commands.map((command) => command.name());
}

describe("commandInArgv", () => {
  it("finds the command past global flags and their values", async () => {
    const program = await buildProgram(io, []);
    const cases: Array<[string[], string | undefined]> = [
      [["deploy", "--dry-run"], "deploy"],
      [["--config", "x.yaml", "deploy"], "deploy"],
      [["--config=deploy", "status"], "status"],
      [["--context", "deploy", "status"], "status"],
      [["-n", "backup", "upgrade", "--node", "a"], "upgrade"],
      [["--set", "a=b", "--set", "c=d", "-o", "json", "backup", "list"], "backup"],
      [["--yes", "--no-input", "--no-color", "--verbose", "cluster", "create"], "cluster"],
      [["--kubeconfig", "/k", "init"], "init"],
    ];
    for (const [argv, expected] of cases) expect(commandInArgv(program, argv), argv.join(" ")).toBe(expected);
  });

  it("gives up (so every command is registered) whenever it cannot be sure", async () => {
    const program = await buildProgram(io, []);
    for (const argv of [
      [],
      ["--help", "deploy"],
      ["-h"],
      ["help", "deploy"],
      ["deplyo"],
      ["--unknown", "deploy"],
      ["-ojson", "deploy"],
      ["-yn", "deploy"],
      ["--", "deploy"],
      ["--config"],
    ]) {
      expect(commandInArgv(program, argv), argv.join(" ")).toBeUndefined();
    }
  });
});

describe("registerCommands", () => {
  it("registers every command, in help order, when argv names none", async () => {
    expect(await registered([])).toEqual([...COMMAND_NAMES]);
    expect(await registered(["--help"])).toEqual([...COMMAND_NAMES]);
  });

  it("registers just the named command, and each module declares the command it is listed under", async () => {
    for (const name of COMMAND_NAMES.filter((n) => n !== "completion")) {
      expect(await registered([name])).toEqual([name]);
    }
  });

  it("registers every command for completion, whose scripts list them all", async () => {
    expect(await registered(["completion", "bash"])).toEqual([...COMMAND_NAMES]);
  });
});
