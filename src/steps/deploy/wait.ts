/**
 * Steps: wait, with watches and one deadline each, until the claim is Bound, the Deployment has rolled
 * out with one replica per node and zone, and the load balancer has an address. On timeout they say what
 * is stuck and why (the scheduler's reason for a Pending pod, the last warning event).
 */
import type { ListrTask } from "listr2";
import { waitUntil } from "../../adapters/kube-watch.js";
import { evaluateHealth } from "../../core/health/evaluate.js";
import type { Obj } from "../../core/health/snapshot.js";
import { names } from "../../core/render/names.js";
import { OperationError } from "../../errors.js";
import { gatherSnapshot } from "../health/gather.js";
import type { DeployContext } from "./context.js";

async function whyNotHealthy(ctx: DeployContext): Promise<string> {
  const snapshot = await gatherSnapshot(ctx.kube, ctx.config.namespace);
  const report = evaluateHealth(snapshot, {
    replicas: ctx.config.registry.replicas,
    networkPolicies: [],
    requireLoadBalancer: false,
  });
  return report.problems.join("; ") || "no problem visible yet";
}

const byName = (name: string) => `metadata.name=${name}`;

export function waitForClaimStep(): ListrTask<DeployContext> {
  return {
    title: "Wait for the volume claim to bind",
    task: async (ctx, task) => {
      await waitUntil<Obj & { metadata: Obj }>(
        ctx.kube,
        {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          namespace: ctx.config.namespace,
          fieldSelector: byName(names.claim),
        },
        ([claim]) => claim?.status?.phase === "Bound",
        {
          timeoutMs: ctx.options.timeoutMs,
          signal: ctx.options.signal,
          stats: ctx.stats,
          onChange: ([claim]) => {
            task.output = `claim ${names.claim}: ${claim?.status?.phase ?? "not found"}`;
          },
          explainTimeout: ([claim]) =>
            `claim ${names.claim} is ${claim?.status?.phase ?? "missing"} (volume ${names.volume(ctx.config.namespace)})`,
        },
      );
      task.title = `Volume claim ${names.claim} is Bound`;
    },
  };
}

export function rolledOut(deployment: Obj | undefined, replicas: number): boolean {
  const s = deployment?.status;
  return (
    deployment !== undefined &&
    (s?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
    s?.updatedReplicas === replicas &&
    s?.readyReplicas === replicas &&
    s?.availableReplicas === replicas &&
    (s?.replicas ?? 0) === replicas
  );
}

export function waitForRolloutStep(): ListrTask<DeployContext> {
  return {
    title: "Wait for the registry to roll out",
    task: async (ctx, task) => {
      const replicas = ctx.config.registry.replicas;
      await waitUntil<Obj & { metadata: Obj }>(
        ctx.kube,
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          namespace: ctx.config.namespace,
          fieldSelector: byName(names.deployment),
        },
        ([d]) => rolledOut(d, replicas),
        {
          timeoutMs: ctx.options.timeoutMs,
          signal: ctx.options.signal,
          stats: ctx.stats,
          onChange: ([d]) => {
            const s = d?.status ?? {};
            task.output = `replicas ready ${s.readyReplicas ?? 0}/${replicas}, updated ${s.updatedReplicas ?? 0}, available ${s.availableReplicas ?? 0}`;
          },
          explainTimeout: () => whyNotHealthy(ctx),
        },
      );
      // Rolled out is not enough: the replicas must sit on distinct nodes in distinct zones.
      const snapshot = await gatherSnapshot(ctx.kube, ctx.config.namespace);
      const report = evaluateHealth(snapshot, { replicas, networkPolicies: [], requireLoadBalancer: false });
      const ready = report.registry.pods.filter((p) => p.ready);
      const nodes = new Set(ready.map((p) => p.node));
      const zones = new Set(ready.map((p) => p.zone));
      const wantZones = Math.min(replicas, new Set(report.nodes.map((n) => n.zone)).size);
      if (nodes.size < replicas || zones.size < wantZones) {
        if (!ctx.options.force) {
          throw new OperationError(
            `The ${replicas} replicas run on ${nodes.size} node(s) in ${zones.size} zone(s), not one per node and zone.`,
            {
              hint: "Check the anti-affinity and zone labels: `clouddrove status` shows where each replica runs.",
            },
          );
        }
        ctx.warnings.push(`replicas share nodes or zones (${nodes.size} node(s), ${zones.size} zone(s))`);
      }
      task.title = `Registry rolled out: ${ready.length}/${replicas} ready on ${nodes.size} nodes in ${zones.size} zones`;
    },
  };
}

/** host:port of the load balancer: the ingress hostname or IP, and the port it reports (else the Service's). */
export function loadBalancerAddress(service: Obj | undefined): string | undefined {
  const ingress = (service?.status?.loadBalancer?.ingress as Obj[] | undefined)?.[0];
  const host = ingress?.hostname ?? ingress?.ip;
  if (!host) return undefined;
  const port =
    (ingress?.ports as Obj[] | undefined)?.[0]?.port ??
    (service?.spec?.ports as Obj[] | undefined)?.[0]?.port ??
    5000;
  return `${host}:${port}`;
}

export function waitForLoadBalancerStep(): ListrTask<DeployContext> {
  return {
    title: "Wait for the load balancer address",
    task: async (ctx, task) => {
      const [service] = await waitUntil<Obj & { metadata: Obj }>(
        ctx.kube,
        {
          apiVersion: "v1",
          kind: "Service",
          namespace: ctx.config.namespace,
          fieldSelector: byName(names.service),
        },
        ([s]) => loadBalancerAddress(s) !== undefined,
        {
          timeoutMs: ctx.options.timeoutMs,
          signal: ctx.options.signal,
          stats: ctx.stats,
          explainTimeout: () =>
            "the Service has no load balancer address; on EKS check the AWS Load Balancer Controller or the " +
            "service controller's events (`kubectl describe service registry-clouddrove`)",
        },
      );
      ctx.address = loadBalancerAddress(service);
      task.title = `Load balancer: ${ctx.address}`;
    },
  };
}
