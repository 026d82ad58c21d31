/**
 * `clouddrove init`: the prompt-driven first-time setup. Asks only what has no safe default (offering
 * defaults), validates each answer as it is typed, and writes clouddrove.yaml — never a secret.
 * Without a terminal it writes the file from flags/env/defaults, or exits 2 naming what is missing.
 */
import type { Command } from "commander";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import { addCommandSettings } from "./setting-options.js";

export function registerInit(program: Command, io: AppIO, state: RunState): void {
  const init = program
    .command("init")
    .description("first-time setup: ask for what has no safe default and write clouddrove.yaml");
  addCommandSettings(init, "init");
  init.action(async (flags: Record<string, unknown>, command: Command) => {
    await runInit(createContext(io, command, state), flags);
  });
}

export async function runInit(ctx: CommandContext, flags: Record<string, unknown>): Promise<void> {
  const { existsSync } = await import("node:fs");
  const { resolve } = await import("node:path");
  const { DEFAULT_CONFIG_FILE, renderConfigFile, writeConfigFile } = await import("../config/load.js");
  const { askSetting, resolveFromContext } = await import("../config/options.js");
  const { missingSettingsError } = await import("../config/resolve.js");
  const { SETTINGS_BY_KEY } = await import("../config/settings.js");
  const { initRequiredKeys, keysToWrite, nextInitQuestion } = await import("../core/init-plan.js");
  const { UsageError } = await import("../errors.js");

  const path = resolve(ctx.io.cwd, ctx.globals.config ?? DEFAULT_CONFIG_FILE);
  const exists = existsSync(path);
  let resolved = await resolveFromContext(ctx, flags, undefined, { toWrite: true });

  if (exists && !ctx.globals.yes) {
    if (!ctx.interactive) {
      throw new UsageError(`${path} already exists; init did not change it.`, {
        hint: "Pass --yes to rewrite it (its settings are kept unless overridden), or edit it by hand.",
      });
    }
  }

  if (ctx.interactive) {
    if (exists && !ctx.globals.yes) {
      const rewrite = await ctx.prompter.confirm({
        message: `${path} exists. Rewrite it (its settings are kept as defaults)?`,
        // Enter keeps the file: rewriting is the change, so it must be chosen.
        default: false,
      });
      if (!rewrite) {
        ctx.out.info("Nothing written.");
        return;
      }
    }
    ctx.out.info(
      "clouddrove init: a few questions; Enter accepts the suggestion shown. Nothing is created yet.",
    );
    const answers = new Map<string, import("../config/settings.js").SettingValue>();
    const asked = new Set<string>();
    for (;;) {
      const question = nextInitQuestion(resolved.config, resolved.sources, asked);
      if (!question) break;
      asked.add(question.key);
      const setting = SETTINGS_BY_KEY.get(question.key);
      if (!setting) break;
      const answer = await askSetting(
        ctx.prompter,
        question.message ? { ...setting, ask: question.message } : setting,
        {
          current: resolved.values.get(question.key),
          optional: question.optional,
        },
      );
      if (answer === "" || (Array.isArray(answer) && answer.length === 0 && question.optional)) continue;
      answers.set(question.key, answer);
      resolved = await resolveFromContext(ctx, flags, answers, { toWrite: true });
    }
  }

  const missing = initRequiredKeys(resolved.config).filter((key) => !resolved.values.has(key));
  if (missing.length > 0) throw missingSettingsError(missing);

  const keys = keysToWrite(resolved.sources);
  writeConfigFile(path, renderConfigFile(resolved.values, keys));
  const written = Object.fromEntries(keys.map((key) => [key, resolved.values.get(key)]));
  // The next steps name what this run was given: another config file than ./clouddrove.yaml, the
  // kubeconfig and context, so that they read the same file and reach the same cluster.
  const { commandLine } = await import("../core/command-line.js");
  const given = [
    ...(ctx.globals.config ? ["--config", ctx.globals.config] : []),
    ...(ctx.globals.kubeconfig ? ["--kubeconfig", ctx.globals.kubeconfig] : []),
    ...(ctx.globals.context ? ["--context", ctx.globals.context] : []),
  ];
  await ctx.out.result({ file: path, settings: written }, () =>
    [
      `Wrote ${path} (${keys.length} settings; no secrets).`,
      "Next:",
      `  ${commandLine("clouddrove cluster create", given, "")}   # a regional EKS cluster across three zones`,
      `  ${commandLine("clouddrove deploy", given, "")}   # the registry on it`,
    ].join("\n"),
  );
}
