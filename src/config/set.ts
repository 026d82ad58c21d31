/**
 * `clouddrove config set KEY VALUE`, and the upgrade recording the version it moved to: one setting
 * written into the config file, validated as the loader validates it, keeping the file's comments, order
 * and other settings (the yaml package's document model edits the one node and leaves the rest).
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../errors.js";
import { DEFAULT_CONFIG_FILE, renderConfigFile, writeConfigFile } from "./load.js";
import { parseSettingValue, resolveConfig, unknownKey } from "./resolve.js";
import { SETTINGS_BY_KEY, type Setting, type SettingValue } from "./settings.js";

export interface SetResult {
  path: string;
  key: string;
  value: SettingValue;
  previous?: unknown;
  created: boolean;
}

/** Validates `raw` for `key` and writes it into the config file (created when absent). Exit 2 on bad input. */
export async function setConfigValue(input: {
  cwd: string;
  configPath?: string;
  key: string;
  raw: string;
}): Promise<SetResult> {
  const setting = SETTINGS_BY_KEY.get(input.key);
  if (!setting) {
    const problem = unknownKey(input.key);
    throw new UsageError(`${problem.charAt(0).toUpperCase()}${problem.slice(1)}; nothing was written.`, {
      hint: "`clouddrove config show` lists every key.",
    });
  }
  let value: SettingValue;
  try {
    value = parseSettingValue(setting, input.raw, "the command line");
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; nothing was written.`, {
      hint: `Give ${input.key} a value of that form: \`clouddrove config set ${input.key} VALUE\`.`,
    });
  }
  const path = resolve(input.cwd, input.configPath ?? DEFAULT_CONFIG_FILE);
  const created = !existsSync(path);
  const text = created ? renderConfigFile(new Map(), []) : readFileSync(path, "utf8");
  const { parseDocument } = await import("yaml");
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new UsageError(`The config file ${path} is not valid YAML; nothing was written.`, {
      details: doc.errors.map((e) => e.message),
      hint: "Fix the YAML syntax at the line shown.",
    });
  }
  const keyPath = input.key.split(".");
  const previous = doc.getIn(keyPath);
  doc.setIn(keyPath, yamlValue(doc, setting, value));
  // The file as it would be, checked whole (an unknown key elsewhere, storage.type ebs) before it is written.
  const next = String(doc);
  resolveConfig({ file: { path, data: doc.toJS(), text: next } });
  writeConfigFile(path, next);
  return { path, key: input.key, value, previous: toPlain(previous), created };
}

/** Versions stay strings in YAML ("1.34", not 1.34): quoted, as the loader requires. */
function yamlValue(doc: import("yaml").Document, setting: Setting, value: SettingValue): unknown {
  if (typeof value !== "string" || setting.kind !== "string") return value;
  const node = doc.createNode(value) as import("yaml").Scalar;
  if (/^[\d.]+$/.test(value)) node.type = "QUOTE_DOUBLE";
  return node;
}

function toPlain(node: unknown): unknown {
  return node && typeof node === "object" && "toJSON" in node
    ? (node as { toJSON(): unknown }).toJSON()
    : node;
}
