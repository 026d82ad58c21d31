/**
 * Recording settings in clouddrove.yaml after the fact (the EFS file system `cluster create` made, for
 * `deploy` to find without being told), and removing them again. The file's other settings are kept;
 * only settings from the table are written (never a secret: the table has none).
 */
import { resolve } from "node:path";
import { DEFAULT_CONFIG_FILE, loadConfigFile, renderConfigFile, writeConfigFile } from "./load.js";
import { resolveConfig } from "./resolve.js";
import type { SettingValue } from "./settings.js";

export interface RecordInput {
  cwd: string;
  /** The global --config, when given. */
  configPath?: string;
  settings: Record<string, SettingValue>;
}

/** Merges `settings` into the config file (creating it when absent) and returns its path. */
export async function recordSettings(input: RecordInput): Promise<string> {
  const path = resolve(input.cwd, input.configPath ?? DEFAULT_CONFIG_FILE);
  const file = await loadConfigFile(input.cwd, input.configPath);
  const existing = resolveConfig({ file });
  const values = new Map(existing.values);
  const keys = new Set([...existing.sources].filter(([, source]) => source === "file").map(([key]) => key));
  for (const [key, value] of Object.entries(input.settings)) {
    values.set(key, value);
    keys.add(key);
  }
  writeConfigFile(path, renderConfigFile(values, keys));
  return path;
}

/** Removes settings from the config file (e.g. the EFS id after `cluster delete --delete-data`). */
export async function forgetSettings(input: {
  cwd: string;
  configPath?: string;
  keys: string[];
}): Promise<string | undefined> {
  const file = await loadConfigFile(input.cwd, input.configPath);
  if (!file) return undefined;
  const existing = resolveConfig({ file });
  const keys = [...existing.sources]
    .filter(([key, source]) => source === "file" && !input.keys.includes(key))
    .map(([key]) => key);
  writeConfigFile(file.path, renderConfigFile(existing.values, keys));
  return file.path;
}
