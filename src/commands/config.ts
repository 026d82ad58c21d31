/**
 * `clouddrove config show`: every setting with its resolved value and where it came from.
 */
import type { Command } from "commander";
import { type AppIO, createContext, type RunState } from "./context.js";
import { addCommandSettings } from "./setting-options.js";

export function registerConfig(program: Command, io: AppIO, state: RunState): void {
  const config = program.command("config").description("inspect the resolved configuration");
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
}
