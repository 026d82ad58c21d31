/**
 * Reading and writing clouddrove.yaml. The file never holds a secret: `init` writes only settings from
 * the table, and the table has no secret in it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseSimpleYaml } from "../core/yaml/parse-simple.js";
import { UsageError } from "../errors.js";
import { SETTINGS, type SettingValue } from "./settings.js";

export const DEFAULT_CONFIG_FILE = "clouddrove.yaml";

/**
 * An explicit --config must exist (unless `toWrite`: the file `init` is about to write); without one,
 * ./clouddrove.yaml is read when present. Returns undefined when there is no file to read.
 */
export async function loadConfigFile(
  cwd: string,
  explicitPath?: string,
  options: { toWrite?: boolean } = {},
): Promise<{ path: string; data: unknown; text: string } | undefined> {
  const path = resolve(cwd, explicitPath ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(path)) {
    if (explicitPath === undefined || options.toWrite) return undefined;
    throw new UsageError(`The config file ${path} does not exist.`, {
      hint: "Check the --config path, or run `clouddrove init` to write one.",
    });
  }
  const text = readFileSync(path, "utf8");
  // The plain YAML config files are made of is read without loading the yaml package (start-up time);
  // anything else, errors included, goes to the package.
  const simple = parseSimpleYaml(text);
  if (simple) return { path, data: simple.value, text };
  const { parseDocument } = await import("yaml");
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new UsageError(`The config file ${path} is not valid YAML.`, {
      details: doc.errors.map((e) => e.message),
      hint: "Fix the YAML syntax at the line shown.",
    });
  }
  return { path, data: doc.toJS(), text };
}

/** Nested YAML for the given settings, in table order, with each setting's description as a comment. */
export function renderConfigFile(values: ReadonlyMap<string, SettingValue>, keys: Iterable<string>): string {
  const wanted = new Set(keys);
  const lines = [
    "# clouddrove configuration. Secrets are never stored here: the registry password lives in the",
    "# cluster (Secret registry-clouddrove-auth) or comes from CLOUDDROVE_REGISTRY_PASSWORD.",
  ];
  let openPath: string[] = [];
  for (const setting of SETTINGS) {
    if (!wanted.has(setting.key)) continue;
    const value = values.get(setting.key);
    if (value === undefined) continue;
    const parts = setting.key.split(".");
    const parents = parts.slice(0, -1);
    let common = 0;
    while (common < parents.length && openPath[common] === parents[common]) common++;
    for (let depth = common; depth < parents.length; depth++) {
      lines.push(`${"  ".repeat(depth)}${parents[depth]}:`);
    }
    openPath = parents;
    const indent = "  ".repeat(parents.length);
    lines.push(`${indent}# ${setting.description}`);
    lines.push(`${indent}${parts.at(-1)}: ${yamlScalar(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

function yamlScalar(value: SettingValue): string {
  if (Array.isArray(value)) return `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
  if (typeof value === "number") return String(value);
  // JSON quoting is valid YAML and keeps "1.33" a string.
  return JSON.stringify(value);
}

/** Write atomically: a crash mid-write never leaves half a config file behind. */
export function writeConfigFile(path: string, content: string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, content, { mode: 0o644 });
  renameSync(temporary, path);
}
