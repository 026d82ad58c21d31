/**
 * Adds one flag per setting to a command, straight from the settings table, so that every setting a
 * command uses can be given as a flag (and, by the same table, as CLOUDDROVE_* and a file key).
 */
import { type Command, Option } from "commander";
import { envVarName, SETTINGS, type Setting } from "../config/settings.js";

/** Settings whose flag is already a global flag of the program. */
const GLOBAL_FLAGS = new Set(["namespace"]);

export function addSettingOptions(command: Command, include: (setting: Setting) => boolean): Command {
  for (const setting of SETTINGS) {
    if (GLOBAL_FLAGS.has(setting.flag) || !include(setting)) continue;
    const placeholder = setting.kind === "list" ? "<items>" : setting.kind === "integer" ? "<n>" : "<value>";
    const option = new Option(
      `--${setting.flag} ${placeholder}`,
      `${setting.description} [${envVarName(setting.key)}]`,
    );
    if (setting.choices) option.choices(setting.choices);
    command.addOption(option);
    if (setting.shortcut) {
      command.option(
        `--${setting.shortcut.flag}`,
        `${setting.shortcut.description} (short for --${setting.flag} ${setting.shortcut.value})`,
      );
    }
  }
  return command;
}

export const settingGroups = {
  cluster: (s: Setting) => s.key.startsWith("cluster.") || s.key === "timeouts.eksctl",
  registry: (s: Setting) =>
    /^(registry|storage|network|tls|backup)\./.test(s.key) || s.key === "timeouts.deploy",
  all: (_: Setting) => true,
};
