/**
 * Resolves every setting from its sources, remembering where each value came from.
 * Precedence, highest first: flags > environment (CLOUDDROVE_*) > --set / config file > prompts > defaults.
 * All problems are collected and reported together as one UsageError (exit 2) before anything happens.
 */
import { closestName } from "../core/closest-name.js";
import { lineOfKey } from "../core/yaml/key-line.js";
import { UsageError } from "../errors.js";
import { type Config, crossSettingProblems, toConfig } from "./schema.js";
import {
  envVarName,
  howToSet,
  SETTINGS,
  SETTINGS_BY_KEY,
  type Setting,
  type SettingValue,
} from "./settings.js";

export type Source = "flag" | "env" | "set" | "file" | "prompt" | "default";

export interface ResolvedConfig {
  config: Config;
  values: Map<string, SettingValue>;
  sources: Map<string, Source>;
  /** The config file that was read, if any. */
  file?: string;
}

export interface ResolveInputs {
  /** Commander's option values, keyed by camelCased flag name. */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** The config file's parsed content (see load.ts), its path and its text (for line numbers). */
  file?: { path: string; data: unknown; text?: string };
  /** --set key.path=value, in the order given. */
  set?: string[];
  /** Answers gathered by prompts, keyed by setting key. */
  answers?: Map<string, SettingValue>;
}

export function flagProperty(setting: Setting): string {
  return setting.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function describe(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : JSON.stringify(value);
}

/** A value that does not parse as its setting; `expected` is what a prompt shows under the answer. */
export class InvalidSettingValue extends UsageError {
  constructor(
    message: string,
    readonly expected: string,
  ) {
    super(message);
  }
}

/** Turns one raw value (string from a flag/env/--set, or a YAML scalar/list) into the setting's type. */
export function parseSettingValue(setting: Setting, raw: unknown, from: string): SettingValue {
  const fail = (expected: string): never => {
    throw new InvalidSettingValue(
      `${setting.key}: ${describe(raw)} from ${from} is not valid: expected ${expected}`,
      expected,
    );
  };
  switch (setting.kind) {
    case "integer": {
      const text = String(raw).trim();
      if (!/^-?\d+$/.test(text)) fail("a whole number");
      const n = Number(text);
      if ((setting.min !== undefined && n < setting.min) || (setting.max !== undefined && n > setting.max)) {
        fail(`a whole number from ${setting.min} to ${setting.max}`);
      }
      return n;
    }
    case "list": {
      let items: unknown[];
      if (Array.isArray(raw)) items = raw;
      else if (typeof raw === "string")
        items = raw
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
      else return fail("a list (YAML sequence, or comma-separated text)");
      const strings = items.map((item) => (typeof item === "string" ? item : fail("a list of strings")));
      for (const item of strings) {
        const problem = setting.check?.(item);
        if (problem) fail(`each item to be ${problem} ('${item}' is not)`);
      }
      return strings;
    }
    case "enum": {
      if (typeof raw !== "string" || !setting.choices?.includes(raw))
        fail(`one of ${setting.choices?.join(", ")}`);
      return raw as string;
    }
    case "string": {
      // YAML turns 1.30 into a number; a version must be quoted, so refuse rather than guess.
      if (typeof raw !== "string")
        return fail(`text${setting.key.endsWith("Version") ? ' (quote it: "1.33")' : ""}`);
      const problem = setting.check?.(raw);
      if (problem) fail(problem);
      return raw;
    }
  }
}

/** The line a prompt shows under a typed answer that does not parse, or undefined when it does. */
export function answerProblem(setting: Setting, text: string): string | undefined {
  try {
    parseSettingValue(setting, text.trim(), "your answer");
    return undefined;
  } catch (error) {
    if (!(error instanceof InvalidSettingValue)) throw error;
    return `Expected ${error.expected}.`;
  }
}

/** The setting (or group of settings, for a mistyped group) a mistyped key most likely meant. */
function closestKey(key: string): string | undefined {
  const depth = key.split(".").length;
  const candidates = new Set<string>();
  for (const setting of SETTINGS) {
    candidates.add(setting.key);
    // A group at the same depth: 'registy' is 'registry'.
    const parts = setting.key.split(".");
    if (parts.length > depth) candidates.add(parts.slice(0, depth).join("."));
  }
  return closestName(key, candidates);
}

/**
 * Flattens the config file into dotted keys; unknown keys are errors (a typo must not be ignored), named
 * with their line when the file's text is at hand.
 */
export function flattenFile(
  data: unknown,
  path: string,
  problems: string[],
  text?: string,
): Map<string, unknown> {
  const flat = new Map<string, unknown>();
  const walk = (node: unknown, prefix: string) => {
    if (node === null || node === undefined) return;
    if (typeof node !== "object" || Array.isArray(node)) {
      problems.push(`${path}: expected a mapping at ${prefix || "the top level"}, found ${describe(node)}`);
      return;
    }
    for (const [name, value] of Object.entries(node as Record<string, unknown>)) {
      const key = prefix ? `${prefix}.${name}` : name;
      if (SETTINGS_BY_KEY.has(key)) {
        if (value !== null && value !== undefined) flat.set(key, value);
      } else if (
        value !== null &&
        typeof value === "object" &&
        !Array.isArray(value) &&
        isSettingPrefix(key)
      ) {
        walk(value, key);
      } else {
        const line = text === undefined ? undefined : lineOfKey(text, key.split("."));
        problems.push(`${line ? `${path}:${line}` : path}: ${unknownKey(key)}`);
      }
    }
  };
  walk(data, "");
  return flat;
}

/** "unknown key 'storage.sise' (did you mean 'storage.size'?)": the same words for the file and --set. */
export function unknownKey(key: string): string {
  const guess = closestKey(key);
  return `unknown key '${key}'${guess ? ` (did you mean '${guess}'?)` : ""}`;
}

function isSettingPrefix(key: string): boolean {
  return SETTINGS.some((s) => s.key.startsWith(`${key}.`));
}

function parseSetArgument(argument: string, problems: string[]): [string, string] | undefined {
  const eq = argument.indexOf("=");
  if (eq <= 0) {
    problems.push(`--set '${argument}': expected key.path=value, e.g. --set storage.size=100Gi`);
    return undefined;
  }
  const key = argument.slice(0, eq);
  if (!SETTINGS_BY_KEY.has(key)) {
    problems.push(`--set '${argument}': ${unknownKey(key)}`);
    return undefined;
  }
  return [key, argument.slice(eq + 1)];
}

export function resolveConfig(inputs: ResolveInputs): ResolvedConfig {
  const problems: string[] = [];
  const values = new Map<string, SettingValue>();
  const sources = new Map<string, Source>();
  const take = (setting: Setting, raw: unknown, source: Source, from: string) => {
    try {
      values.set(setting.key, parseSettingValue(setting, raw, from));
      sources.set(setting.key, source);
    } catch (error) {
      problems.push((error as Error).message);
    }
  };

  for (const setting of SETTINGS) {
    if (setting.default !== undefined) {
      values.set(setting.key, Array.isArray(setting.default) ? [...setting.default] : setting.default);
      sources.set(setting.key, "default");
    }
  }
  for (const [key, value] of inputs.answers ?? []) {
    values.set(key, value);
    sources.set(key, "prompt");
  }
  if (inputs.file) {
    for (const [key, raw] of flattenFile(inputs.file.data, inputs.file.path, problems, inputs.file.text)) {
      take(SETTINGS_BY_KEY.get(key) as Setting, raw, "file", inputs.file.path);
    }
  }
  for (const argument of inputs.set ?? []) {
    const pair = parseSetArgument(argument, problems);
    if (pair) take(SETTINGS_BY_KEY.get(pair[0]) as Setting, pair[1], "set", `--set ${pair[0]}`);
  }
  const env = inputs.env ?? {};
  for (const setting of SETTINGS) {
    const name = envVarName(setting.key);
    const raw = env[name];
    if (raw !== undefined && raw !== "") take(setting, raw, "env", name);
  }
  for (const setting of SETTINGS) {
    const raw = inputs.flags?.[flagProperty(setting)];
    if (raw !== undefined) take(setting, raw, "flag", `--${setting.flag}`);
    const shortcut = setting.shortcut;
    if (shortcut && inputs.flags?.[flagProperty({ ...setting, flag: shortcut.flag })] === true) {
      if (raw !== undefined && raw !== shortcut.value) {
        problems.push(
          `--${shortcut.flag} and --${setting.flag} ${describe(raw)} contradict each other: give one of them`,
        );
      } else take(setting, shortcut.value, "flag", `--${shortcut.flag}`);
    }
  }

  if (problems.length === 0) {
    problems.push(...crossSettingProblems(toConfig(values)));
  }
  if (problems.length > 0) {
    throw new UsageError(
      problems.length === 1 ? (problems[0] as string) : `${problems.length} settings are not valid:`,
      {
        details: problems.length === 1 ? [] : problems,
        hint: "Fix the value where it came from (flag, environment, --set or config file); `clouddrove config show` lists every setting.",
      },
    );
  }
  return { config: toConfig(values), values, sources, file: inputs.file?.path };
}

/** Exit 2 naming every setting a command needs but nobody supplied, with the flag and env var for each. */
export function missingSettingsError(keys: string[]): UsageError {
  const lines = keys.map((key) => {
    const setting = SETTINGS_BY_KEY.get(key) as Setting;
    return `${key} (${setting.description}): ${howToSet(setting)}`;
  });
  return new UsageError(
    keys.length === 1
      ? `A required setting is missing: ${lines[0]}`
      : `${keys.length} required settings are missing:`,
    {
      details: keys.length === 1 ? [] : lines,
      hint: "Supply them as flags, environment variables or in clouddrove.yaml, or run `clouddrove init` at a terminal.",
    },
  );
}
