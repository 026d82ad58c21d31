/**
 * Applies the storage prerequisites (the EFS StorageClass, the EBS VolumeSnapshotClass) to the new
 * cluster with server-side apply, and notes which kubeconfig context reaches it.
 */
import type { ListrTask } from "listr2";
import type { KubeConnectOptions } from "../../adapters/kube.js";
import { storageObjects } from "../../core/cluster/storage-objects.js";
import { type KubeStepContext, kubeFor } from "./connect.js";
import { readStorageTemplate } from "./templates.js";

export function storageTask(connect: KubeConnectOptions): ListrTask<KubeStepContext> {
  return {
    title: "Storage classes for the registry (EFS) and snapshots (EBS)",
    task: async (context, task) => {
      const kube = await kubeFor(context, connect);
      for (const object of storageObjects(readStorageTemplate())) {
        await kube.apply(object);
        task.output = `applied ${object.kind} ${object.metadata.name}`;
      }
      context.done.push("applied StorageClass clouddrove-efs and VolumeSnapshotClass clouddrove-ebs");
    },
  };
}
