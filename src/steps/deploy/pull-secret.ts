/**
 * Step: the pull Secret names the load balancer's address too. Nodes pull images through the load
 * balancer (they cannot resolve the in-cluster service name), so a pull Secret without it would not work
 * for pods. A first deploy writes the Secret only here, once the address is known; later deploys render it
 * with the address from the start, and write it here again only when the load balancer was replaced.
 */
import type { ListrTask } from "listr2";
import type { Config } from "../../config/schema.js";
import { names, type RegistryCredentials, renderManifests } from "../../core/render/index.js";
import type { KubeObject } from "../../core/render/types.js";
import { applyLate, isPullSecret } from "./apply.js";
import type { DeployContext } from "./context.js";

async function applyPullSecret(ctx: DeployContext, credentials: RegistryCredentials): Promise<void> {
  const secret = (await renderManifests(ctx.config, credentials, ctx.tls?.prepared.tls)).find(
    isPullSecret,
  ) as KubeObject;
  await applyLate(ctx, secret);
  ctx.pullSecretPending = false;
}

/**
 * The addresses the pull Secret names besides the Service's cluster name: the load balancer's, and
 * tls.hostname on the registry port when clients use that name.
 */
export function pullHosts(config: Config, address: string): string[] {
  const hostname = config.tls.hostname;
  return [address, ...(hostname ? [`${hostname}:${names.ports.registry}`] : [])];
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
      ctx.credentials = { ...ctx.credentials, pullHosts: pullHosts(ctx.config, address) };
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
