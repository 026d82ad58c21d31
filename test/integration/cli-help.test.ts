/**
 * Help and usage errors as a user meets them: every command's --help shows the global options and
 * examples without default noise, each example parses, and parser errors read like the commands' own.
 */
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli.js";
import { processIO } from "../../src/commands/context.js";
import { commandPath, EXAMPLES } from "../../src/commands/help.js";
import { runCli } from "../support/run-cli.js";

async function allCommands(): Promise<Command[]> {
  const program = await buildProgram(processIO(), []);
  const all: Command[] = [];
  const visit = (c: Command) => {
    all.push(c);
    c.commands.forEach(visit);
  };
  visit(program);
  return all;
}

describe("--help", () => {
  it("every command with an action shows its options, the global ones and examples, without default noise", async () => {
    for (const command of await allCommands()) {
      const path = commandPath(command);
      if (command.commands.length > 0 && path !== "") continue; // a group: its subcommands carry the examples
      if (path.startsWith("sandbox")) continue; // the sandbox package's own commands
      const run = await runCli([...(path ? path.split(" ") : []), "--help"]);
      expect(run.code, path).toBe(0);
      if (path !== "") {
        expect(run.stdout, path).toContain("Global Options:");
        for (const flag of [
          "--config <file>",
          "-o, --output <format>",
          "-y, --yes",
          "--context <name>",
          "--set",
        ]) {
          expect(run.stdout, `${path} ${flag}`).toContain(flag);
        }
      }
      expect(run.stdout, path).toMatch(/\nExamples:\n {2}(source <\()?clouddrove /);
      expect(run.stdout, path).not.toContain("(default: [])");
      expect(run.stdout, path).not.toContain("(default: false)");
    }
  });

  it("backup now does not offer the CronJob's --backup-schedule", async () => {
    const run = await runCli(["backup", "now", "--help"]);
    expect(run.stdout).toContain("--backup-bucket");
    expect(run.stdout).not.toContain("--backup-schedule");
  });

  it("every example names a command and flags that exist", async () => {
    const commands = await allCommands();
    const byPath = new Map(commands.map((c) => [commandPath(c), c]));
    const program = byPath.get("") as Command;
    for (const [path, examples] of Object.entries(EXAMPLES)) {
      expect(byPath.has(path), path).toBe(true);
      for (const example of examples) {
        const words = example
          .replace(/^source <\(|\)$/g, "")
          .replace(/ \| source$/, "")
          .split(" ");
        expect(words[0]).toBe("clouddrove");
        let command = program;
        for (const word of words.slice(1)) {
          const sub = command.commands.find((c) => c.name() === word);
          if (sub) command = sub;
          else if (word.startsWith("-")) {
            const flag = word.split("=")[0];
            const known = [command, program].some((c) =>
              c.options.some((o) => o.long === flag || o.short === flag),
            );
            expect(known, `${example}: ${flag}`).toBe(true);
          }
        }
        if (path !== "") expect(commandPath(command), example).toBe(path);
      }
    }
  });
});

describe("usage errors", () => {
  it("read like the commands' own errors: Error, Hint naming the help, exit 2", async () => {
    const unknown = await runCli(["deploy", "--bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "Error: Unknown option '--bogus'.\nHint: `clouddrove deploy --help` lists what it takes.\n",
    );
    const nested = await runCli(["backup", "restore", "--from"]);
    expect(nested.code).toBe(2);
    expect(nested.stderr).toMatch(
      /^Error: Option '--from <key>' argument missing\.\nHint: `clouddrove backup restore --help`/,
    );
    const command = await runCli(["deplyo"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/^Error: Unknown command 'deplyo'\. \(Did you mean deploy\?\)/);
  });
});
