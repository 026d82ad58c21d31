/**
 * Steps of `backup snapshot`: create the VolumeSnapshot, then watch it until the CSI driver reports it
 * readyToUse (or the snapshot controller reports an error, which is final for this run).
 */
import type { ListrTask } from "listr2";
import type { Kube } from "../../adapters/kube.js";
import { waitUntil } from "../../adapters/kube-watch.js";
import { SNAPSHOT_API, type SnapshotSummary, summarizeSnapshot } from "../../core/backup/snapshot.js";
import type { Obj } from "../../core/health/snapshot.js";
import type { KubeObject } from "../../core/render/types.js";
import { OperationError } from "../../errors.js";

export interface SnapshotContext {
  kube: Kube;
  namespace: string;
  claim: string;
  snapshot: KubeObject;
  timeoutMs: number;
  signal?: AbortSignal;
  result?: SnapshotSummary;
}

export function snapshotTasks(): ListrTask<SnapshotContext>[] {
  return [
    {
      title: "Create the VolumeSnapshot",
      task: async (ctx, task) => {
        await ctx.kube.apply(ctx.snapshot);
        task.title = `Created VolumeSnapshot ${ctx.snapshot.metadata.name} of claim ${ctx.claim}`;
      },
    },
    {
      title: "Wait until the snapshot is ready to use",
      task: async (ctx, task) => {
        const name = ctx.snapshot.metadata.name;
        const [snapshot] = await waitUntil<Obj & { metadata: Obj }>(
          ctx.kube,
          {
            apiVersion: SNAPSHOT_API,
            kind: "VolumeSnapshot",
            namespace: ctx.namespace,
            fieldSelector: `metadata.name=${name}`,
          },
          ([s]) => s?.status?.readyToUse === true || Boolean(s?.status?.error?.message),
          {
            timeoutMs: ctx.timeoutMs,
            signal: ctx.signal,
            onChange: ([s]) => {
              task.output = s?.status?.boundVolumeSnapshotContentName
                ? `content ${s.status.boundVolumeSnapshotContentName}, not ready yet`
                : "waiting for the snapshot controller";
            },
            explainTimeout: () =>
              `the snapshot is not ready (kubectl -n ${ctx.namespace} describe volumesnapshot ${name})`,
          },
        );
        const summary = summarizeSnapshot(snapshot as Obj);
        ctx.result = summary;
        if (!summary.readyToUse) {
          throw new OperationError(`The snapshot ${name} failed: ${summary.error}`, {
            hint: `See kubectl -n ${ctx.namespace} describe volumesnapshot ${name}; remove it with kubectl -n ${ctx.namespace} delete volumesnapshot ${name}.`,
          });
        }
        task.title = `Snapshot ${name} is ready to use${summary.restoreSize ? ` (${summary.restoreSize})` : ""}`;
      },
    },
  ];
}
