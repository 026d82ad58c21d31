/**
 * Step: once the load balancer has an address, make sure the pull Secret names it too. Nodes pull images
 * through the load balancer (they cannot resolve the in-cluster service name), so a pull Secret without
 * it would not work for pods. Written only when the address is new: on the first deploy, or when the
 * load balancer was replaced.
 */
import type { ListrTask } from "listr2";
import { refKey, refOf } from "../../core/deploy/objects.js";
import { names, renderManifests } from "../../core/render/index.js";
import type { DeployContext } from "./context.js";

export function pullSecretStep(): ListrTask<DeployContext> {
  return {
    title: "Name the load balancer in the pull Secret",
    skip: (ctx) =>
      !ctx.address || ctx.credentials.pullHosts?.includes(ctx.address)
        ? "the pull Secret already names the load balancer"
        : false,
    task: async (ctx, task) => {
      const address = ctx.address as string;
      ctx.credentials = { ...ctx.credentials, pullHosts: [address] };
      const objects = await renderManifests(ctx.config, ctx.credentials);
      const secret = objects.find((o) => o.kind === "Secret" && o.metadata.name === names.pullSecret);
      if (!secret) return;
      await ctx.kube.apply(secret);
      ctx.stats.writes++;
      const applied = ctx.applied.find(
        (a) => refKey({ apiVersion: secret.apiVersion, ...a }) === refKey(refOf(secret)),
      );
      if (applied && applied.action === "unchanged") applied.action = "configured";
      task.title = `The pull Secret ${names.pullSecret} names ${address}`;
    },
  };
}
