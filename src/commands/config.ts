/**
 * `clouddrove config show`: every setting with its resolved value and where it came from;
 * `clouddrove config set KEY VALUE`: one setting written into the config file.
 */
import type { Command } from "commander";
import { type AppIO, createContext, type RunState } from "./context.js";
import { addCommandSettings } from "./setting-options.js";

export function registerConfig(program: Command, io: AppIO, state: RunState): void {
  const config = program
    .command("config")
    .description("inspect the resolved configuration, or set one setting");
  const show = config
    .command("show")
    .description("print every setting, its value and its source (flag, env, --set, file, prompt, default)");
  addCommandSettings(show, "config show");
  show.action(async (flags: Record<string, unknown>, command: Command) => {
    const ctx = createContext(io, command, state);
    const { resolveFromContext } = await import("../config/options.js");
    const { showConfig } = await import("../config/report.js");
    const resolved = await resolveFromContext(ctx, flags);
    const report = showConfig(resolved, ctx.io.env);
    await ctx.out.result(report, () => report.text);
  });
  config
    .command("set")
    .description("write one setting into the config file, validated, keeping its comments and order")
    .argument("<key>", "the setting's key, e.g. registry.version (`clouddrove config show` lists them)")
    .argument("<value>", "its value (a list comma-separated)")
    .action(async (key: string, value: string, _flags: unknown, command: Command) => {
      const ctx = createContext(io, command, state);
      const { setConfigValue } = await import("../config/set.js");
      const result = await setConfigValue({
        cwd: ctx.io.cwd,
        configPath: ctx.globals.config,
        key,
        raw: value,
      });
      const shown = Array.isArray(result.value) ? result.value.join(",") : String(result.value);
      await ctx.out.result(result, () =>
        result.created
          ? `Wrote ${result.path} with ${key}: ${shown}.`
          : `${key}: ${shown} in ${result.path}${result.previous === undefined ? "" : ` (was ${JSON.stringify(result.previous)})`}.`,
      );
    });
}
