/**
 * Step: server-side apply of every rendered object, in dependency order, with field manager clouddrove.
 * One write per object; what each write did (created, configured, unchanged) comes from comparing
 * resourceVersions with the live objects listed once per kind beforehand.
 */
import type { ListrTask } from "listr2";
import { classifyApply, comparable, PRUNABLE_KINDS, refKey, refOf } from "../../core/deploy/objects.js";
import { unifiedDiff } from "../../core/diff.js";
import type { KubeObject } from "../../core/render/types.js";
import { OperationError } from "../../errors.js";
import type { DeployContext } from "./context.js";

/** Lists what exists now, so the apply can tell created from configured from unchanged. */
export async function readLiveObjects(ctx: DeployContext): Promise<void> {
  const ns = ctx.config.namespace;
  const lists = await Promise.all(
    PRUNABLE_KINDS.map((k) =>
      ctx.kube.list<KubeObject & { metadata: { name: string } }>(k.apiVersion, k.kind, { namespace: ns }),
    ),
  );
  ctx.stats.lists += PRUNABLE_KINDS.length;
  for (const [index, items] of lists.entries()) {
    const { apiVersion, kind } = PRUNABLE_KINDS[index] as (typeof PRUNABLE_KINDS)[number];
    for (const item of items) {
      // Lists leave out apiVersion and kind on their items.
      const object = { ...item, apiVersion, kind } as KubeObject;
      ctx.live.set(refKey(refOf(object)), object);
    }
  }
  for (const object of ctx.objects) {
    if (!["Namespace", "PersistentVolume", "PersistentVolumeClaim"].includes(object.kind)) continue;
    const live = await ctx.kube.get(
      object.apiVersion,
      object.kind,
      object.metadata.name,
      object.metadata.namespace,
    );
    ctx.stats.reads++;
    if (live)
      ctx.live.set(refKey(refOf(object)), {
        ...live,
        apiVersion: object.apiVersion,
        kind: object.kind,
      } as KubeObject);
  }
}

async function toYaml(object: KubeObject | undefined): Promise<string> {
  if (!object) return "";
  const { stringify } = await import("yaml");
  return stringify(comparable(object));
}

function conflictError(error: unknown): OperationError | undefined {
  const cause = (error as { cause?: { code?: number } })?.cause;
  if (!(error instanceof OperationError) || cause?.code !== 409) return undefined;
  return new OperationError(
    error.message.replace(/^The Kubernetes API answered 409 while /, "Conflict while "),
    {
      cause: error,
      hint:
        "Another field manager owns those fields (someone changed them with kubectl or another tool). Decide who " +
        "should own them; to let clouddrove take them over, run deploy again with --force-conflicts.",
    },
  );
}

export function applyStep(): ListrTask<DeployContext> {
  return {
    title: "Apply the registry objects",
    task: async (ctx, task) => {
      await readLiveObjects(ctx);
      const namespaceKey = refKey({ apiVersion: "v1", kind: "Namespace", name: ctx.config.namespace });
      const namespaceMissing = !ctx.live.has(namespaceKey);
      const dryRun = ctx.options.serverDryRun || ctx.options.diff;
      for (const [index, object] of ctx.objects.entries()) {
        const ref = refOf(object);
        task.output = `${index + 1}/${ctx.objects.length} ${object.kind} ${object.metadata.name}`;
        const before = ctx.live.get(refKey(ref));
        if (dryRun && namespaceMissing && object.metadata.namespace) {
          // The server cannot check an object in a namespace that a dry run did not really create.
          ctx.applied.push({ ...ref, action: "created" });
          if (ctx.options.diff) ctx.diffs.push(unifiedDiff("", await toYaml(object), labels(object)));
          continue;
        }
        let after: KubeObject;
        try {
          after = (await ctx.kube.apply(object, { force: ctx.options.forceConflicts, dryRun })) as KubeObject;
        } catch (error) {
          throw conflictError(error) ?? error;
        }
        ctx.stats.writes++;
        const action = dryRun ? dryRunAction(before, after) : classifyApply(before, after);
        ctx.applied.push({ ...ref, action });
        if (ctx.options.diff && action !== "unchanged") {
          ctx.diffs.push(unifiedDiff(await toYaml(before), await toYaml(after), labels(object)));
        }
      }
      const counts = countActions(ctx.applied.map((a) => a.action));
      task.title = `Apply the registry objects${dryRun ? " (server dry run)" : ""}: ${counts}`;
    },
  };
}

function labels(object: KubeObject) {
  const name = `${object.kind}/${object.metadata.namespace ? `${object.metadata.namespace}/` : ""}${object.metadata.name}`;
  return { from: `live ${name}`, to: `rendered ${name}` };
}

/** A dry run never bumps resourceVersion, so compare the content the server would store. */
function dryRunAction(
  before: KubeObject | undefined,
  after: KubeObject,
): "created" | "configured" | "unchanged" {
  if (!before) return "created";
  return JSON.stringify(comparable(before)) === JSON.stringify(comparable(after))
    ? "unchanged"
    : "configured";
}

export function countActions(actions: string[]): string {
  const counts = new Map<string, number>();
  for (const action of actions) counts.set(action, (counts.get(action) ?? 0) + 1);
  return [...counts.entries()].map(([action, n]) => `${n} ${action}`).join(", ") || "nothing to do";
}
