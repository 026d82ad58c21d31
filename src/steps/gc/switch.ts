/**
 * Switching every replica to read-only and back: the ConfigMap and the Deployment applied as
 * core/gc/read-only.ts computes them (server-side apply, the field manager `deploy` uses, so a deploy
 * takes the same fields back), then the rollout waited for (core/health/rollout.ts, as deploy judges it). The Deployment replaces one replica at a
 * time (maxSurge 0, maxUnavailable 1), so with three replicas two stay ready throughout; the fewest
 * ready seen is recorded.
 */
import type { V1Deployment } from "@kubernetes/client-node";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { waitUntil } from "../../adapters/kube-watch.js";
import { forApply } from "../../core/deploy/objects.js";
import { type RegistryPair, readOnlyPair, writablePair } from "../../core/gc/read-only.js";
import { isRolledOut } from "../../core/health/rollout.js";
import { names } from "../../core/render/names.js";
import { OperationError } from "../../errors.js";
import type { GcContext } from "./context.js";

type Task = { output: string };

async function livePair(ctx: GcContext): Promise<RegistryPair> {
  const [configMap, deployment] = await Promise.all([
    ctx.kube.get(named(Kinds.ConfigMap, names.configMap, ctx.namespace)),
    ctx.kube.get(named(Kinds.Deployment, names.deployment, ctx.namespace)),
  ]);
  if (!configMap || !deployment) {
    throw new OperationError(
      `The registry's ConfigMap or Deployment is missing in namespace ${ctx.namespace}.`,
      {
        hint: "Run clouddrove deploy first.",
      },
    );
  }
  return { configMap, deployment };
}

/** Applies the pair and waits until every replica runs it. */
async function applyAndRoll(ctx: GcContext, pair: RegistryPair, task: Task): Promise<void> {
  await ctx.kube.apply(forApply(pair.configMap, "v1", "ConfigMap"));
  await ctx.kube.apply(forApply(pair.deployment, "apps/v1", "Deployment"));
  await waitUntil<V1Deployment>(
    ctx.kube,
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      namespace: ctx.namespace,
      fieldSelector: `metadata.name=${names.deployment}`,
    },
    ([d]) => isRolledOut(d, ctx.replicas),
    {
      timeoutMs: ctx.rolloutTimeoutMs,
      signal: ctx.signal,
      onChange: ([d]) => {
        const s = d?.status ?? {};
        const ready = s.readyReplicas ?? 0;
        ctx.minimumReady = Math.min(ctx.minimumReady ?? ready, ready);
        task.output = `replicas ready ${ready}/${ctx.replicas}, updated ${s.updatedReplicas ?? 0}`;
      },
      explainTimeout: ([d]) =>
        `the registry did not roll out: ${d?.status?.readyReplicas ?? 0}/${ctx.replicas} ready, ${d?.status?.updatedReplicas ?? 0} updated (kubectl -n ${ctx.namespace} describe deployment ${names.deployment})`,
    },
  );
}

/** Every replica read-only (storage.maintenance.readonly); recorded on the ConfigMap for a re-run and status. */
export async function switchToReadOnly(ctx: GcContext, task: Task): Promise<void> {
  const pair = await readOnlyPair(await livePair(ctx), new Date());
  ctx.readOnly = true;
  await applyAndRoll(ctx, pair, task);
}

/** Every replica writable again, with the Deployment's pod template as deploy rendered it. */
export async function switchToWritable(ctx: GcContext, task: Task): Promise<void> {
  const pair = await writablePair(await livePair(ctx));
  await applyAndRoll(ctx, pair, task);
  ctx.readOnly = false;
}
