/**
 * deploy's part in the nodes' trust (docs/node-trust.md): with the registry's private CA (tls.mode
 * private-ca), once the load balancer has its address and the server certificate names it, the
 * node-trust DaemonSet writes containerd's certs.d for every address on every node, so Pods pull from the
 * registry with the pull Secret; the same with tls.mode secret when the Secret's issuer is private (its
 * ca.crt is published in the same ConfigMap). Otherwise the nodes have nothing to trust, and a node-trust
 * namespace left from an earlier private-ca deploy is deleted (prune does not see it: it is not the
 * registry's namespace).
 */
import type { ListrTask } from "listr2";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { names } from "../../core/render/names.js";
import { hostPort } from "../../core/trust/address.js";
import { trustNames } from "../../core/trust/names.js";
import { readRegistryAddresses, readRegistryCa } from "../trust/lookup.js";
import { type NodeTrustContext, nodeTrustSteps } from "../trust/node-trust.js";
import type { DeployContext } from "./context.js";

export function nodeTrustStep(): ListrTask<DeployContext> {
  return {
    title: "The nodes' trust in the registry's CA",
    task: async (ctx, task) => {
      const namespace = ctx.config.namespace;
      // A CA to trust: clouddrove's (private-ca), or the private issuer of tls.mode secret's Secret,
      // which the render published in the same ConfigMap. A publicly trusted certificate needs none.
      if (!ctx.tls && !ctx.served?.privateCa) {
        const left = await ctx.kube.get(named(Kinds.Namespace, trustNames.nodeTrustNamespace));
        if (left) await ctx.kube.delete(named(Kinds.Namespace, trustNames.nodeTrustNamespace));
        task.title = left
          ? `Deleted namespace ${trustNames.nodeTrustNamespace}: tls.mode ${ctx.config.tls.mode} has no private CA for the nodes to trust`
          : `No node trust needed: tls.mode ${ctx.config.tls.mode}`;
        return;
      }
      const [ca, addresses] = await Promise.all([
        readRegistryCa(ctx.kube, namespace),
        readRegistryAddresses(ctx.kube, namespace),
      ]);
      const hostname = ctx.config.tls.hostname;
      if (hostname && !addresses.some((a) => a.host === hostname)) {
        addresses.push({ host: hostname, port: names.ports.registry });
      }
      const trust: NodeTrustContext = {
        kube: ctx.kube,
        ca,
        addresses,
        image: ctx.config.registry.initImage,
        timeoutMs: ctx.options.timeoutMs,
      };
      task.title = `Nodes trust the registry's CA: ${addresses.map(hostPort).join(", ")}`;
      return task.newListr(nodeTrustSteps<NodeTrustContext>(), { ctx: trust });
    },
  };
}
