/**
 * Steps: wait, with watches and one deadline each, until the claim is Bound, the Deployment has rolled
 * out with one replica per node and zone, and the load balancer has an address. On timeout they say what
 * is stuck and why (the scheduler's reason for a Pending pod, the last warning event).
 */
import type { V1Deployment, V1PersistentVolumeClaim, V1Service } from "@kubernetes/client-node";
import type { ListrTask } from "listr2";
import { sleep } from "../../adapters/abort.js";
import { waitUntil } from "../../adapters/kube-watch.js";
import { evaluateHealth } from "../../core/health/evaluate.js";
import { isRolledOut } from "../../core/health/rollout.js";
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
      await waitUntil<V1PersistentVolumeClaim>(
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

export function waitForRolloutStep(): ListrTask<DeployContext> {
  return {
    title: "Wait for the registry to roll out",
    task: async (ctx, task) => {
      const replicas = ctx.config.registry.replicas;
      await waitUntil<V1Deployment>(
        ctx.kube,
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          namespace: ctx.config.namespace,
          fieldSelector: byName(names.deployment),
        },
        ([d]) => isRolledOut(d, replicas),
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
      const { report, ready } = await readyReplicasSettled(ctx, replicas);
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

/** How long the pods may take to agree with the Deployment's status that every replica is ready. */
const SETTLE_MS = 30_000;

/**
 * The registry's pods once `replicas` of them are ready, or as they are after SETTLE_MS. The Deployment's
 * status and the pods are read at different moments: on a loaded cluster a replica's readiness probe can
 * fail once just after the status said "all ready", and judging placement from that one list read
 * "3 replicas on 2 nodes" for replicas that sat one per node.
 */
async function readyReplicasSettled(ctx: DeployContext, replicas: number) {
  const settleBy = Date.now() + Math.min(SETTLE_MS, ctx.options.timeoutMs);
  for (;;) {
    const snapshot = await gatherSnapshot(ctx.kube, ctx.config.namespace);
    const report = evaluateHealth(snapshot, { replicas, networkPolicies: [], requireLoadBalancer: false });
    const ready = report.registry.pods.filter((p) => p.ready);
    if (ready.length >= replicas || Date.now() >= settleBy) return { report, ready };
    await sleep(1000, ctx.options.signal);
  }
}

/** host:port of the load balancer: the ingress hostname or IP, and the port it reports (else the Service's). */
export function loadBalancerAddress(service: V1Service | undefined): string | undefined {
  const ingress = service?.status?.loadBalancer?.ingress?.[0];
  const host = ingress?.hostname ?? ingress?.ip;
  if (!host) return undefined;
  const port = ingress?.ports?.[0]?.port ?? service?.spec?.ports?.[0]?.port ?? 5000;
  return `${host}:${port}`;
}

export function waitForLoadBalancerStep(): ListrTask<DeployContext> {
  return {
    title: "Wait for the load balancer address",
    task: async (ctx, task) => {
      const [service] = await waitUntil<V1Service>(
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
