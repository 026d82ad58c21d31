/**
 * Step: the pull Secret names the load balancer's address too. Nodes pull images through the load
 * balancer (they cannot resolve the in-cluster service name), so a pull Secret without it would not work
 * for pods. A first deploy writes the Secret only here, once the address is known; later deploys render it
 * with the address from the start, and write it here again only when the load balancer was replaced.
 */
import type { ListrTask } from "listr2";
import type { Kube } from "../../adapters/kube.js";
import { classifyApply, refKey, refOf } from "../../core/deploy/objects.js";
import { names, type RegistryCredentials, renderManifests } from "../../core/render/index.js";
import type { KubeObject } from "../../core/render/types.js";
import { isPullSecret } from "./apply.js";
import type { DeployContext } from "./context.js";

async function applyPullSecret(ctx: DeployContext, credentials: RegistryCredentials): Promise<void> {
  const secret = (await renderManifests(ctx.config, credentials)).find(isPullSecret) as KubeObject;
  const after = (await (ctx.kube as Kube).apply(secret)) as KubeObject;
  ctx.stats.writes++;
  const key = refKey(refOf(secret));
  const action = classifyApply(ctx.live.get(key), after);
  const earlier = ctx.applied.find((a) => refKey(a) === key);
  // Applied earlier in this run (the address changed since): the second write configured it.
  if (earlier && earlier.action !== "created" && action !== "unchanged") earlier.action = "configured";
  if (!earlier) {
    ctx.applied.push({ ...refOf(secret), action });
    // Reported in apply order, like every other object (pruned ones, not rendered, stay last).
    const order = new Map(ctx.objects.map((o, i) => [refKey(refOf(o)), i]));
    const rank = (a: (typeof ctx.applied)[number]) => order.get(refKey(a)) ?? ctx.objects.length;
    ctx.applied.sort((a, b) => rank(a) - rank(b));
  }
  ctx.pullSecretPending = false;
}

export function pullSecretStep(): ListrTask<DeployContext> {
  return {
    title: "Name the load balancer in the pull Secret",
    skip: (ctx) =>
      !ctx.pullSecretPending && (!ctx.address || ctx.credentials.pullHosts?.includes(ctx.address))
        ? "the pull Secret already names the load balancer"
        : false,
    task: async (ctx, task) => {
      const address = ctx.address as string;
      ctx.credentials = { ...ctx.credentials, pullHosts: [address] };
      await applyPullSecret(ctx, ctx.credentials);
      task.title = `The pull Secret ${names.pullSecret} names ${address}`;
    },
  };
}

/**
 * After a failed or interrupted first deploy: the pull Secret is where the password is kept, so it is
 * written anyway (without the load balancer, which the next deploy adds) — a re-run then reuses the
 * password instead of making a new one.
 */
export async function writePendingPullSecret(ctx: DeployContext): Promise<void> {
  if (ctx.pullSecretPending) await applyPullSecret(ctx, ctx.credentials);
}
