/**
 * Recording what `cluster create` made in clouddrove.yaml, so `deploy` finds the EFS file system, the
 * backup bucket and the backup Job's role without being told. Writing the file is config/'s
 * (config/record.ts); the command hands the writer in.
 */
import type { ListrTask } from "listr2";
import type { SettingValue } from "../../config/settings.js";
import type { ClusterContext } from "./context.js";

/** Merges settings into the config file and returns its path (config/record.ts recordSettings, bound). */
export type RecordSettings = (settings: Record<string, SettingValue>) => Promise<string>;

/** What this run made that `deploy` needs, as settings. */
export function recordedSettings(context: ClusterContext): Record<string, string> {
  return {
    ...(context.fileSystemId ? { "storage.efs.fileSystemId": context.fileSystemId } : {}),
    ...(context.backup?.bucket ? { "backup.bucket": context.backup.bucket } : {}),
    ...(context.backup?.roleArn ? { "backup.roleArn": context.backup.roleArn } : {}),
  };
}

/** The step that records the EFS id, the backup bucket and role (and the cluster they belong to). */
export function recordTask(record: RecordSettings): ListrTask<ClusterContext> {
  return {
    title: "Record what was made in clouddrove.yaml",
    skip: (context) => (Object.keys(recordedSettings(context)).length === 0 ? "nothing to record" : false),
    task: async (context, task) => {
      const made = recordedSettings(context);
      context.recordedIn = await record({
        "cluster.name": context.values.name,
        "cluster.region": context.values.region,
        ...made,
      });
      task.title = `Recorded ${Object.entries(made)
        .map(([key, value]) => `${key} ${value}`)
        .join(", ")} in ${context.recordedIn}`;
    },
  };
}
