/**
 * Step: delete what an earlier deploy applied (labelled managed-by clouddrove) and this render no longer
 * contains. Never the PersistentVolume or its claim: registry data outlives every command but an
 * explicit, confirmed delete.
 */
import type { ListrTask } from "listr2";
import { pruneCandidates, refOf } from "../../core/deploy/objects.js";
import type { DeployContext } from "./context.js";

export function pruneStep(): ListrTask<DeployContext> {
  return {
    title: "Prune objects this deploy no longer renders",
    task: async (ctx, task) => {
      const candidates = pruneCandidates([...ctx.live.values()], ctx.objects);
      if (candidates.length === 0) {
        task.title = "Prune: nothing to prune";
        return;
      }
      const dryRun = ctx.options.serverDryRun || ctx.options.diff;
      for (const object of candidates) {
        const ref = refOf(object);
        if (!dryRun) {
          await ctx.kube.delete(ref.apiVersion, ref.kind, ref.name, ref.namespace);
          ctx.stats.writes++;
        }
        ctx.applied.push({ ...ref, action: "pruned" });
      }
      task.title = `Prune: ${candidates.length} object(s) ${dryRun ? "would be " : ""}removed (${candidates
        .map((o) => `${o.kind}/${o.metadata.name}`)
        .join(", ")})`;
    },
  };
}
