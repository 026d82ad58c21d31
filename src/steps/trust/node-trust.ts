/**
 * The nodes' trust in the registry's private CA, as steps deploy runs in the private-ca TLS mode after the
 * load balancer has its address: apply the node-trust namespace, ConfigMap and DaemonSet (server-side
 * apply, field manager clouddrove), then wait until a current pod runs on every node the DaemonSet
 * covers. Its files survive the pods, so a re-run after a failure or Ctrl-C simply applies again.
 */
import type { ListrTask } from "listr2";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { readTemplateIn } from "../../core/render/templates.js";
import type { KubeObject } from "../../core/render/types.js";
import type { RegistryAddress } from "../../core/trust/address.js";
import type { CaCertificate } from "../../core/trust/ca.js";
import { trustNames } from "../../core/trust/names.js";
import { type NodeTrustTemplates, renderNodeTrust } from "../../core/trust/node-trust.js";

export async function readNodeTrustTemplates(): Promise<NodeTrustTemplates> {
  const [objects, script] = await Promise.all(
    ["node-trust.yaml", "install-ca.sh"].map((file) => readTemplateIn("node-trust", file)),
  );
  return { objects: objects as string, script: script as string };
}

export interface NodeTrustContext {
  kube: Kube;
  /** The CA certificate (the ConfigMap's copy) and the load balancer's addresses, as deploy knows them. */
  ca: CaCertificate;
  addresses: RegistryAddress[];
  /** registry.initImage: the pinned Alpine image. */
  image: string;
  timeoutMs: number;
  /** What was applied, in order, for the report. */
  nodeTrustObjects?: KubeObject[];
}

interface DaemonSetStatus {
  metadata?: { generation?: number };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberReady?: number;
  };
}

/** Rolled out: the controller saw this spec, and every node it covers runs a ready pod of it. */
export function nodeTrustRolledOut(daemonSet: DaemonSetStatus): boolean {
  const status = daemonSet.status ?? {};
  const desired = status.desiredNumberScheduled ?? -1;
  return (
    (status.observedGeneration ?? 0) >= (daemonSet.metadata?.generation ?? 1) &&
    desired >= 0 &&
    status.updatedNumberScheduled === desired &&
    status.numberReady === desired
  );
}

/** The steps deploy runs when tls.mode is private-ca (see docs/node-trust.md). */
export function nodeTrustSteps<Ctx extends NodeTrustContext>(): ListrTask<Ctx>[] {
  return [
    {
      title: "Make the nodes trust the registry's CA",
      task: async (ctx, task) => {
        const objects = renderNodeTrust(await readNodeTrustTemplates(), ctx);
        // Namespace first: the other two live in it.
        for (const object of objects) await ctx.kube.apply(object);
        ctx.nodeTrustObjects = objects;
        task.title = `Make the nodes trust the registry's CA: ${objects.map((o) => `${o.kind} ${o.metadata.name}`).join(", ")} applied`;
      },
    },
    {
      title: "Wait for the node-trust pods on every node",
      task: async (ctx, task) => {
        const ready = await ctx.kube.waitFor(
          named(Kinds.DaemonSet, trustNames.nodeTrust, trustNames.nodeTrustNamespace),
          nodeTrustRolledOut,
          ctx.timeoutMs,
        );
        task.title = `The node-trust pods run on ${ready.status?.numberReady} nodes`;
      },
    },
  ];
}
