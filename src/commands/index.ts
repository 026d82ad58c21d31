/**
 * The list of subcommands. Each module declares its flags eagerly (so --help is complete) and imports
 * its heavy dependencies only inside its action. Only commands that work are listed here.
 */
import type { Command } from "commander";
import { registerBackup } from "./backup.js";
import { registerCluster } from "./cluster.js";
import { registerConfig } from "./config.js";
import type { AppIO, RunState } from "./context.js";
import { registerDeploy } from "./deploy.js";
import { registerInit } from "./init.js";
import { registerSandbox } from "./sandbox.js";
import { registerStatus } from "./status.js";
import { registerUpgrade } from "./upgrade.js";

export function registerCommands(program: Command, io: AppIO, state: RunState): void {
  registerInit(program, io, state);
  registerConfig(program, io, state);
  registerCluster(program, io, state);
  registerDeploy(program, io, state);
  registerStatus(program, io, state);
  registerBackup(program, io, state);
  registerSandbox(program, io, state);
  registerUpgrade(program, io, state);
}
