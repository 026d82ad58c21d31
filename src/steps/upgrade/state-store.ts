/**
 * Keeping the upgrade's state in the cluster (ConfigMap registry-clouddrove-upgrade in the registry's
 * namespace, plus an annotation on the node in maintenance), written after every step so that an
 * interrupted or failed run can be resumed or undone by the next one — from this machine or another.
 */
import type { V1Deployment } from "@kubernetes/client-node";
import type { ListrTask } from "listr2";
import { annotateNode } from "../../adapters/drain.js";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import {
  NODE_STATE_ANNOTATION,
  nodeAnnotation,
  parseState,
  STATE_CONFIGMAP,
  STATE_KEYS,
  type UpgradeState,
} from "../../core/upgrade/state.js";
import type { UpgradeContext } from "./context.js";

export interface StoredUpgrade {
  state?: UpgradeState;
  previous: { config?: string; deployment?: V1Deployment };
}

export async function readStoredUpgrade(kube: Kube, namespace: string): Promise<StoredUpgrade> {
  const configMap = await kube.get(named(Kinds.ConfigMap, STATE_CONFIGMAP, namespace));
  const data = configMap?.data ?? {};
  let deployment: V1Deployment | undefined;
  const deploymentText = data[STATE_KEYS.previousDeployment];
  try {
    deployment = deploymentText ? (JSON.parse(deploymentText) as V1Deployment) : undefined;
  } catch {
    deployment = undefined;
  }
  return {
    state: parseState(data[STATE_KEYS.state]),
    previous: { config: data[STATE_KEYS.previousConfig], deployment },
  };
}

/** Writes the whole record (server-side apply, field manager clouddrove). */
export async function saveState(ctx: UpgradeContext): Promise<void> {
  ctx.state.updatedAt = new Date().toISOString();
  const data: Record<string, string> = { [STATE_KEYS.state]: JSON.stringify(ctx.state, null, 2) };
  if (ctx.previous.config !== undefined) data[STATE_KEYS.previousConfig] = ctx.previous.config;
  if (ctx.previous.deployment !== undefined) {
    data[STATE_KEYS.previousDeployment] = JSON.stringify(ctx.previous.deployment);
  }
  await ctx.kube.apply({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: STATE_CONFIGMAP,
      namespace: ctx.namespace,
      // Deliberately without app.kubernetes.io/managed-by: `deploy` must never prune an upgrade's record.
      labels: { "app.kubernetes.io/name": "registry", "app.kubernetes.io/component": "upgrade" },
      annotations: {
        "clouddrove.io/description":
          "State of `clouddrove upgrade`: continue with --resume, undo with --rollback. Safe to delete once the upgrade is over.",
      },
    },
    data,
  });
  ctx.stats.patches++;
}

/**
 * The last step of an upgrade or a rollback: records how it ended (no failure left) and saves the record;
 * then `summary` says what it came to (the step's detail and final title).
 */
export function recordOutcomeStep(
  title: string,
  outcome: "completed" | "rolled-back",
  summary: (ctx: UpgradeContext) => { detail: string; title: string },
): ListrTask<UpgradeContext> {
  return {
    title,
    task: async (ctx, task) => {
      ctx.state.outcome = outcome;
      ctx.state.failure = undefined;
      await saveState(ctx);
      const said = summary(ctx);
      ctx.detail = said.detail;
      task.title = said.title;
    },
  };
}

/** Shows the state on the node itself (kubectl describe node), or removes it. */
export async function markNode(ctx: UpgradeContext, node: string, present: boolean): Promise<void> {
  await annotateNode(
    ctx.kube,
    node,
    NODE_STATE_ANNOTATION,
    present ? nodeAnnotation(ctx.state, node) : null,
    {
      signal: ctx.options.signal,
      stats: ctx.stats,
    },
  );
}
