/**
 * Every setting's flag is accepted by each command that reads the setting, and offered by no other:
 * walks the settings table against each command's options, and README's table against COMMAND_SETTINGS.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli.js";
import { processIO } from "../../src/commands/context.js";
import { COMMAND_SETTINGS } from "../../src/commands/setting-options.js";
import { envVarName, SETTINGS } from "../../src/config/settings.js";
import { packageFile } from "../../src/package-files.js";

async function commandAt(path: string): Promise<Command> {
  const program = await buildProgram(processIO(), []);
  let command: Command | undefined = program;
  for (const name of path.split(" ")) command = command?.commands.find((c) => c.name() === name);
  if (!command) throw new Error(`no command ${path}`);
  return command;
}

describe("setting flags by command", () => {
  for (const [path, applies] of Object.entries(COMMAND_SETTINGS)) {
    it(`${path} takes the flag of every setting it reads, and of no other`, async () => {
      const command = await commandAt(path);
      for (const setting of SETTINGS) {
        if (setting.key === "namespace") continue; // the global -n, --namespace
        // A setting's flag names its environment variable; a command's own flag of the same name (backup
        // now --timeout, upgrade --registry-version) is something else.
        const flag = command.options.find(
          (o) => o.long === `--${setting.flag}` && o.description.endsWith(`[${envVarName(setting.key)}]`),
        );
        expect(flag !== undefined, `${path} --${setting.flag}`).toBe(applies.include(setting));
      }
    });
  }

  it("deploy, upgrade, backup and cluster accept --region (deploy said 'unknown option')", async () => {
    for (const path of ["deploy", "upgrade", "backup now", "backup restore", "cluster verify"]) {
      expect((await commandAt(path)).options.map((o) => o.long)).toContain("--region");
    }
  });

  it("README documents exactly where each setting's flag is accepted", () => {
    const readme = readFileSync(packageFile("README.md"), "utf8");
    for (const [path, applies] of Object.entries(COMMAND_SETTINGS)) {
      expect(readme).toContain(`| \`clouddrove ${path}\` | ${applies.summary} |`);
    }
  });
});
