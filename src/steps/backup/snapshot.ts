/**
 * Steps of `backup snapshot`: create the VolumeSnapshot, then watch it until the CSI driver reports it
 * readyToUse (or the snapshot controller reports an error, which is final for this run).
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { ListrTask } from "listr2";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { waitUntil } from "../../adapters/kube-watch.js";
import {
  SNAPSHOT_API,
  type SnapshotSummary,
  type SnapshotSupport,
  snapshotSupport,
  snapshotsOfClaim,
  summarizeSnapshot,
  type VolumeSnapshot,
} from "../../core/backup/snapshot.js";
import type { KubeObject } from "../../core/render/types.js";
import { OperationError, UsageError } from "../../errors.js";

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
        const [snapshot] = await waitUntil<VolumeSnapshot & KubernetesObject>(
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
        const summary = summarizeSnapshot(snapshot as VolumeSnapshot);
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

/** The cluster does not serve the snapshot API (discovery does not know the kind, or a 404). */
function isMissingApi(error: unknown): boolean {
  const code = (error as { cause?: { code?: number } })?.cause?.code ?? (error as { code?: number })?.code;
  return code === 404 || /Unrecognized API version and kind/i.test(String((error as Error)?.message));
}

/** Reads the claim, its volume and the snapshot classes, and decides whether a snapshot can work. */
export async function lookUpSnapshotSupport(
  kube: Kube,
  namespace: string,
  claimName: string,
  options: { requestedClass?: string; archiveLocation?: string; clusterLabel: string },
): Promise<SnapshotSupport> {
  const claim = await kube.get(named(Kinds.PersistentVolumeClaim, claimName, namespace));
  if (!claim) {
    throw new UsageError(
      `There is no claim ${claimName} in namespace ${namespace} (${options.clusterLabel})`,
      {
        hint: "Deploy the registry first (clouddrove deploy), or name another claim with --claim.",
      },
    );
  }
  const volumeName = claim.spec?.volumeName;
  const volume = volumeName ? await kube.get(named(Kinds.PersistentVolume, volumeName)) : undefined;
  // Without the snapshot CRDs there are no classes, which snapshotSupport explains.
  const classes = await kube.list(Kinds.VolumeSnapshotClass).catch((error: unknown) => {
    if (isMissingApi(error)) return [];
    throw error;
  });
  return snapshotSupport({
    claim,
    volume,
    classes,
    requestedClass: options.requestedClass,
    archiveLocation: options.archiveLocation,
  });
}

/** The snapshots of one claim; a cluster without the VolumeSnapshot API has none, and says so. */
export async function listClaimSnapshots(
  kube: Kube,
  namespace: string,
  claim: string,
): Promise<{ snapshots: SnapshotSummary[]; note?: string }> {
  try {
    const snapshots = await kube.list(Kinds.VolumeSnapshot, { namespace });
    return { snapshots: snapshotsOfClaim(snapshots, claim) };
  } catch (error) {
    if (!isMissingApi(error)) throw error;
    return {
      snapshots: [],
      note: "the cluster has no VolumeSnapshot API (the snapshot-controller is not installed)",
    };
  }
}
