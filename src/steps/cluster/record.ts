/**
 * Recording what `cluster create` made in clouddrove.yaml, so `deploy` finds the EFS file system without
 * being told. Writing the file is config/'s (config/record.ts); the command hands the writer in.
 */
import type { ListrTask } from "listr2";
import type { SettingValue } from "../../config/settings.js";
import type { ClusterContext } from "./context.js";

/** Merges settings into the config file and returns its path (config/record.ts recordSettings, bound). */
export type RecordSettings = (settings: Record<string, SettingValue>) => Promise<string>;

/** The step that records the EFS id (and the cluster it belongs to) for `deploy`. */
export function recordTask(record: RecordSettings): ListrTask<ClusterContext> {
  return {
    title: "Record the EFS file system id in clouddrove.yaml",
    skip: (context) => (!context.fileSystemId ? "no file system" : false),
    task: async (context, task) => {
      context.recordedIn = await record({
        "cluster.name": context.values.name,
        "cluster.region": context.values.region,
        "storage.efs.fileSystemId": context.fileSystemId as string,
      });
      task.title = `Recorded storage.efs.fileSystemId ${context.fileSystemId} in ${context.recordedIn}`;
    },
  };
}
