/**
 * Running an upgrade (or its rollback) once the command has resolved what to do: the checks against the
 * cluster that refuse a target before anything changes (skew policy, registry versions, nodegroups), the
 * context the steps share, the availability watch around the steps, the report, and — on failure or
 * Ctrl-C — the state record marked failed and the error enriched with where the node and the registry
 * stand and the exact commands that resume or roll back.
 */

import type { V1Deployment, V1Node } from "@kubernetes/client-node";
import { newDrainStats } from "../../adapters/drain.js";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import type { Config } from "../../config/schema.js";
import { imageTag, withTag } from "../../core/registry/image.js";
import { registryContainer } from "../../core/registry/v3.js";
import { names } from "../../core/render/names.js";
import type { StepRecord } from "../../core/step-record.js";
import { classifyPods } from "../../core/upgrade/drain-filter.js";
import { type LeftState, leftStateDetails, type UpgradeReport } from "../../core/upgrade/report.js";
import { currentNode, liveName, reached, type UpgradeState } from "../../core/upgrade/state.js";
import { registryVersionProblem, skewProblem, type UpgradeTargets } from "../../core/upgrade/targets.js";
import { ClouddroveError, UsageError } from "../../errors.js";
import { watchAvailability } from "./availability.js";
import type { UpgradeContext, UpgradeOptions } from "./context.js";
import { recordedSteps } from "./record.js";
import { type StoredUpgrade, saveState } from "./state-store.js";

export interface ClusterView {
  nodes: V1Node[];
  deployment?: V1Deployment;
  controlPlane: string;
}

export async function readClusterView(kube: Kube, namespace: string): Promise<ClusterView> {
  const [nodes, deployment, controlPlane] = await Promise.all([
    kube.list(Kinds.Node),
    kube.get(named(Kinds.Deployment, names.deployment, namespace)),
    kube.serverVersion(),
  ]);
  return { nodes, deployment, controlPlane };
}

/** Refuses (exit 2, nothing changed) targets the cluster cannot take. */
export function targetProblems(view: ClusterView, targets: UpgradeTargets, nodes: string[]): string[] {
  const problems: string[] = [];
  const byName = new Map(view.nodes.map((n) => [n.metadata?.name ?? "", n]));
  for (const node of nodes) {
    if (!byName.has(node))
      problems.push(`there is no node ${node} (nodes: ${[...byName.keys()].join(", ")})`);
  }
  if (targets.kubernetesVersion) {
    for (const node of nodes) {
      const n = byName.get(node);
      if (!n) continue;
      const problem = skewProblem({
        controlPlane: view.controlPlane,
        nodeKubelet: n.status?.nodeInfo?.kubeletVersion,
        target: targets.kubernetesVersion,
        node,
      });
      if (problem) problems.push(problem);
      if (!n.metadata?.labels?.["eks.amazonaws.com/nodegroup"]) {
        problems.push(
          `node ${node} belongs to no EKS nodegroup: --kubernetes-version cannot replace it (use --upgrade-command)`,
        );
      }
    }
  }
  if (targets.registryVersion) {
    if (!view.deployment) problems.push("the registry is not deployed (run clouddrove deploy first)");
    else {
      const current = imageTag(registryContainer(view.deployment)?.image);
      const problem = registryVersionProblem(current, targets.registryVersion);
      if (problem) problems.push(problem);
    }
  }
  return [...new Set(problems)];
}

export interface ContextInputs {
  kube: Kube;
  config: Config;
  options: UpgradeOptions;
  state: UpgradeState;
  stored: StoredUpgrade;
  view: ClusterView;
  environment: { env: NodeJS.ProcessEnv; cwd: string };
}

export function buildContext(inputs: ContextInputs): UpgradeContext {
  const { state, view } = inputs;
  if (state.targets.registryVersion && !state.registry && view.deployment) {
    const image = registryContainer(view.deployment)?.image as string;
    state.registry = {
      previousImage: image,
      targetImage: withTag(image, state.targets.registryVersion),
      fingerprint: null,
    };
  }
  return {
    kube: inputs.kube,
    config: inputs.config,
    namespace: inputs.config.namespace,
    options: inputs.options,
    state,
    previous: { ...inputs.stored.previous },
    environment: inputs.environment,
    controlPlaneVersion: view.controlPlane,
    kubeletBefore: Object.fromEntries(
      view.nodes.map((n) => [n.metadata?.name as string, n.status?.nodeInfo?.kubeletVersion as string]),
    ),
    preflight: new Map(),
    health: null,
    warnings: [],
    stats: newDrainStats(),
    plan: { rehearsal: {}, commands: {} },
  };
}

/** Where the node in maintenance and the registry stand now (read after a failure). */
export async function leftState(ctx: UpgradeContext, clusterFlags: string): Promise<LeftState> {
  const node = currentNode(ctx.state) ?? ctx.state.nodes.at(-1) ?? "";
  const name = liveName(ctx.state, node);
  const [live, pods, deployment] = await Promise.all([
    ctx.kube.get(named(Kinds.Node, name)),
    ctx.kube.list(Kinds.Pod, { fieldSelector: `spec.nodeName=${name}` }),
    ctx.kube.get(named(Kinds.Deployment, names.deployment, ctx.namespace)),
  ]);
  return {
    node: name,
    nodeExists: live !== undefined,
    cordoned: Boolean(live?.spec?.unschedulable),
    podsLeft: live ? classifyPods(pods, ctx.state.drain).evict.length : 0,
    registryImage: deployment ? (registryContainer(deployment)?.image ?? null) : null,
    registryReady: deployment?.status?.readyReplicas ?? 0,
    registryDesired: deployment?.spec?.replicas ?? 0,
    bumped: Boolean(ctx.state.registry?.bumpedAt),
    clusterFlags,
  };
}

/** Adds where things stand and how to resume or roll back to an error, and marks the record failed. */
async function explainFailure(
  ctx: UpgradeContext,
  error: unknown,
  records: StepRecord[],
  clusterFlags: string,
) {
  const changed =
    ctx.state.nodes.some((n) => reached(ctx.state.progress[n], "cordoned")) ||
    Boolean(ctx.state.registry?.bumpedAt);
  if (!changed || ctx.options.dryRun) return error;
  const failedStep =
    records.find((r) => r.status === "failed") ?? records.find((r) => r.status === "pending");
  ctx.state.outcome = "failed";
  ctx.state.failure = {
    node: currentNode(ctx.state),
    step: failedStep?.title ?? "unknown",
    message: error instanceof Error ? error.message : String(error),
  };
  // Where things stand is read first, on its own: a write that keeps failing (the record, the node's
  // annotation) must not hide that the node is cordoned and how to continue.
  const unwritten: string[] = [];
  let left: LeftState | undefined;
  try {
    left = await leftState(ctx, clusterFlags);
  } catch (readError) {
    unwritten.push(
      `where the node and the registry stand could not be read: ${(readError as Error).message}`,
    );
  }
  try {
    await saveState(ctx);
  } catch (saveError) {
    unwritten.push(
      `the upgrade's record could not be updated (${(saveError as Error).message}); --resume continues from the last step it recorded`,
    );
  }
  if (left?.nodeExists && left.cordoned) {
    try {
      const { markNode } = await import("./state-store.js");
      await markNode(ctx, left.node, true);
    } catch (markError) {
      unwritten.push(
        `the node's annotation clouddrove.io/upgrade-state could not be written: ${(markError as Error).message}`,
      );
    }
  }
  const flags = clusterFlags ? ` ${clusterFlags}` : "";
  const { details, hint } = left
    ? leftStateDetails(left)
    : {
        details: [] as string[],
        hint: `Continue where it stopped: \`clouddrove upgrade --resume${flags}\`; or undo: \`clouddrove upgrade --rollback${flags}\`.`,
      };
  details.push(...unwritten);
  if (error instanceof ClouddroveError) {
    error.details.push(...details);
    // "Run the same command again" (the API layer's advice) would start a new upgrade, which refuses
    // while this one is unfinished: the commands that continue it replace it.
    const own = error.hint && !/run the same command again/i.test(error.hint) ? error.hint : undefined;
    Object.defineProperty(error, "hint", { value: own ? `${own}\n      ${hint}` : hint });
    return error;
  }
  const { OperationError } = await import("../../errors.js");
  return new OperationError(error instanceof Error ? error.message : String(error), {
    cause: error,
    details,
    hint,
  });
}

export interface RunOutcome {
  report: UpgradeReport;
  error?: unknown;
}

/** Runs `tasks` with the availability watch around them; never throws: the outcome carries the error. */
export async function runWithReport(
  ctx: UpgradeContext,
  tasks: import("listr2").ListrTask<UpgradeContext>[],
  run: (tasks: import("listr2").ListrTask<UpgradeContext>[]) => Promise<unknown>,
  options: { node: string | null; clusterFlags: string; requestCount?: () => number },
): Promise<RunOutcome> {
  const records: StepRecord[] = [];
  const watcher = ctx.options.dryRun
    ? undefined
    : watchAvailability(ctx.kube, ctx.namespace, { signal: ctx.options.signal, stats: ctx.stats });
  const requestsBefore = options.requestCount?.();
  let error: unknown;
  try {
    await run(recordedSteps(tasks, records));
  } catch (caught) {
    error = await explainFailure(ctx, caught, records, options.clusterFlags);
  }
  const availability = watcher
    ? await watcher.stop()
    : { minReadyReplicas: null, unavailableSeconds: 0, degradedSeconds: 0 };
  const requests =
    requestsBefore !== undefined && options.requestCount
      ? options.requestCount() - requestsBefore
      : undefined;
  const report: UpgradeReport = {
    ok: error === undefined,
    dryRun: ctx.options.dryRun,
    node: options.node,
    nodes: ctx.state.nodes,
    target: ctx.state.targets,
    steps: records,
    availability,
    health: ctx.health,
    replacements: ctx.state.replacements,
    warnings: [...new Set(ctx.warnings)],
    ...(ctx.options.dryRun ? { plan: ctx.plan } : {}),
    ...(requests !== undefined
      ? { requests: { total: requests, perNode: Math.round(requests / Math.max(1, ctx.state.nodes.length)) } }
      : {}),
  };
  return { report, error };
}

export function unfinishedError(state: UpgradeState, clusterFlags: string): UsageError {
  const node = currentNode(state) ?? state.nodes[0];
  const flags = clusterFlags ? ` ${clusterFlags}` : "";
  return new UsageError(
    `An earlier upgrade is unfinished: ${node ? `node ${liveName(state, node)} is at "${state.progress[node ?? ""] ?? "pending"}"` : "the registry was changed"}${state.failure ? `, it stopped at "${state.failure.step}"` : ""}. Nothing was changed now.`,
    {
      details: state.failure ? [state.failure.message] : [],
      hint: `Continue it: \`clouddrove upgrade --resume${flags}\`, or undo it: \`clouddrove upgrade --rollback${flags}\`.`,
    },
  );
}
