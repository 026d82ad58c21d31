/**
 * Resolving a command's options: file + --set + env + flags (resolve.ts), then — only at a terminal —
 * prompts for what a command needs and nobody supplied; without a terminal, exit 2 naming each missing
 * setting with its flag and environment variable.
 */
import type { Prompter } from "../io/prompter.js";
import { loadConfigFile } from "./load.js";
import {
  answerProblem,
  missingSettingsError,
  parseSettingValue,
  type ResolvedConfig,
  resolveConfig,
} from "./resolve.js";
import { type Purpose, requiredSettings } from "./schema.js";
import { SETTINGS_BY_KEY, type Setting, type SettingValue } from "./settings.js";

/**
 * What resolving needs from the run: where it runs, the global flags that are settings, and whether and
 * how it may ask. A command passes its CommandContext, which has all of these.
 */
export interface OptionsContext {
  io: { cwd: string; env: NodeJS.ProcessEnv };
  globals: { config?: string; set: string[]; namespace?: string };
  interactive: boolean;
  prompter: Prompter;
}

export async function resolveFromContext(
  ctx: OptionsContext,
  commandFlags: Record<string, unknown>,
  answers?: Map<string, SettingValue>,
  /** `init`: the --config file is the one it writes, so it need not exist yet. */
  options: { toWrite?: boolean } = {},
): Promise<ResolvedConfig> {
  const file = await loadConfigFile(ctx.io.cwd, ctx.globals.config, options);
  // --namespace is a global flag (as in kubectl) but also the `namespace` setting.
  const flags = { ...commandFlags, namespace: ctx.globals.namespace };
  return resolveConfig({ flags, env: ctx.io.env, file, set: ctx.globals.set, answers });
}

/** Resolves, then asks for (or fails on) every setting `purpose` requires that has no value. */
export async function resolveForPurpose(
  ctx: OptionsContext,
  commandFlags: Record<string, unknown>,
  purpose: Purpose,
  /** Values that rank like prompt answers (below the file): e.g. the EFS id EFS reports for the cluster. */
  baseline?: Map<string, SettingValue>,
): Promise<ResolvedConfig> {
  let resolved = await resolveFromContext(ctx, commandFlags, baseline);
  const missing = requiredSettings(resolved.config, purpose).filter((key) => !resolved.values.has(key));
  if (missing.length === 0) return resolved;
  if (!ctx.interactive) throw missingSettingsError(missing);
  const answers = new Map<string, SettingValue>(baseline);
  for (const key of missing) {
    answers.set(key, await askSetting(ctx.prompter, SETTINGS_BY_KEY.get(key) as Setting));
  }
  resolved = await resolveFromContext(ctx, commandFlags, answers);
  return resolved;
}

/** One question for one setting, validated as it is typed with the same check the file loader uses. */
export async function askSetting(
  prompter: Prompter,
  setting: Setting,
  options: { current?: SettingValue; optional?: boolean } = {},
): Promise<SettingValue> {
  const message = setting.ask ?? setting.description;
  if (setting.kind === "enum") {
    return prompter.select({
      message,
      choices: (setting.choices ?? [])
        .filter((value) => !setting.refusedChoices?.includes(value))
        .map((value) => ({ value })),
      default: typeof options.current === "string" ? options.current : undefined,
    });
  }
  const current = Array.isArray(options.current) ? options.current.join(",") : options.current?.toString();
  const answer = await prompter.input({
    message: options.optional ? `${message} (optional, Enter to skip)` : message,
    default: current === "" ? undefined : current,
    validate: (value) => {
      if (value.trim() === "") return options.optional ? undefined : "A value is required.";
      return answerProblem(setting, value);
    },
  });
  const trimmed = answer.trim();
  if (trimmed === "" && options.optional) return setting.kind === "list" ? [] : "";
  return parseSettingValue(setting, trimmed, "your answer");
}
