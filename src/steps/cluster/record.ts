/**
 * Recording what `cluster create` made in clouddrove.yaml, so `deploy` finds the EFS file system without
 * being told. The file's other settings are kept; only settings from the table are written (never a
 * secret: the table has none).
 */
import { resolve } from "node:path";
import type { ListrTask } from "listr2";
import { DEFAULT_CONFIG_FILE, loadConfigFile, renderConfigFile, writeConfigFile } from "../../config/load.js";
import { resolveConfig } from "../../config/resolve.js";
import type { SettingValue } from "../../config/settings.js";
import type { ClusterContext } from "./context.js";

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

/** The step that records the EFS id (and the cluster it belongs to) for `deploy`. */
export function recordTask(input: { cwd: string; configPath?: string }): ListrTask<ClusterContext> {
  return {
    title: "Record the EFS file system id in clouddrove.yaml",
    skip: (context) => (!context.fileSystemId ? "no file system" : false),
    task: async (context, task) => {
      context.recordedIn = await recordSettings({
        cwd: input.cwd,
        configPath: input.configPath,
        settings: {
          "cluster.name": context.values.name,
          "cluster.region": context.values.region,
          "storage.efs.fileSystemId": context.fileSystemId as string,
        },
      });
      task.title = `Recorded storage.efs.fileSystemId ${context.fileSystemId} in ${context.recordedIn}`;
    },
  };
}
