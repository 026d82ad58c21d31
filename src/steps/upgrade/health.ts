/**
 * Step: the health gate after a node, watched with one deadline (no polling): the registry Deployment
 * rolled out on the expected image (updated = ready = available = replicas); every node Ready and
 * schedulable with the kubelet it should have; then one read of everything (one replica per node and per
 * zone, the disruption budget healthy, the Service's endpoints equal to the replicas, no stuck pods); then
 * every replica answers `/` and accepts the credentials, and the image pushed before the upgrade comes
 * back intact.
 */
import type { KubernetesObject, V1Deployment, V1Node } from "@kubernetes/client-node";
import type { ListrTask } from "listr2";
import { type KindRef, Kinds } from "../../adapters/kube-kinds.js";
import { type WaitOptions, type WatchTarget, waitUntil } from "../../adapters/kube-watch.js";
import { endpointCount, evaluateHealth } from "../../core/health/evaluate.js";
import { hasReadyCondition } from "../../core/health/pod-ready.js";
import { isRolledOut } from "../../core/health/rollout.js";
import { registryContainer } from "../../core/registry/v3.js";
import { names } from "../../core/render/names.js";
import { liveName, reached } from "../../core/upgrade/state.js";
import { minorVersion } from "../../core/upgrade/targets.js";
import { OperationError } from "../../errors.js";
import { gatherSnapshot } from "../health/gather.js";
import type { UpgradeContext } from "./context.js";
import { checkEveryReplica } from "./registry-access.js";
import { saveState } from "./state-store.js";

type Task = { output: string; title: string };
/** Watches `target` until `done` holds, within the gate's one deadline, counted in the upgrade's stats. */
function watchWithinDeadline<T extends KubernetesObject>(
  ctx: UpgradeContext,
  deadline: number,
  target: WatchTarget<T>,
  done: (objects: T[]) => boolean,
  report: Pick<WaitOptions<T>, "onChange" | "explainTimeout">,
): Promise<T[]> {
  return waitUntil<T>(ctx.kube, target, done, {
    timeoutMs: Math.max(1, deadline - Date.now()),
    signal: ctx.options.signal,
    stats: ctx.stats,
    ...report,
  });
}

/** The one object of `kind` named `name` in the registry's namespace. */
function namedInNamespace<T extends KubernetesObject>(
  ctx: UpgradeContext,
  kind: KindRef<T>,
  name: string,
): WatchTarget<T> {
  return { ...kind, namespace: ctx.namespace, fieldSelector: `metadata.name=${name}` };
}

/** The image every replica must run after this node: the target, else what ran before. */
export function expectedImage(ctx: UpgradeContext): string | undefined {
  return ctx.state.registry?.bumpedAt ? ctx.state.registry.targetImage : ctx.state.registry?.previousImage;
}

/** Rolled out, and on `image` when one is expected. */
function rolledOut(d: V1Deployment | undefined, replicas: number, image: string | undefined): boolean {
  if (!d || !isRolledOut(d, replicas)) return false;
  return image === undefined || registryContainer(d)?.image === image;
}

/** Why a node's kubelet is not what it should be now, or undefined. */
export function kubeletProblem(ctx: UpgradeContext, node: V1Node): string | undefined {
  const name = node.metadata?.name ?? "";
  const actual = node.status?.nodeInfo?.kubeletVersion;
  const target = ctx.state.targets.kubernetesVersion;
  const upgraded = ctx.state.nodes.some(
    (n) => liveName(ctx.state, n) === name && reached(ctx.state.progress[n], "bumped"),
  );
  if (target && upgraded) {
    const [want, have] = [minorVersion(target), minorVersion(actual)];
    if (!have || !want || have[1] !== want[1])
      return `node ${name} runs kubelet ${actual ?? "?"}, expected ${target}`;
    return undefined;
  }
  const before = ctx.kubeletBefore[name];
  if (before && actual !== before)
    return `node ${name} runs kubelet ${actual ?? "?"}, it ran ${before} before the upgrade`;
  return undefined;
}

/** Whether the registry Deployment has rolled out on the image it should run now. */
export function registryRolledOut(ctx: UpgradeContext, deployment: V1Deployment | undefined): boolean {
  return rolledOut(deployment, ctx.config.registry.replicas, expectedImage(ctx));
}

/** Waits until the registry Deployment has rolled out (its progress in the task's output). */
export async function waitForRollout(ctx: UpgradeContext, deadline: number, task: Task): Promise<void> {
  const replicas = ctx.config.registry.replicas;
  const image = expectedImage(ctx);
  await watchWithinDeadline(
    ctx,
    deadline,
    namedInNamespace(ctx, Kinds.Deployment, names.deployment),
    ([d]) => rolledOut(d, replicas, image),
    {
      onChange: ([d]) => {
        const s = d?.status ?? {};
        task.output = `replicas ready ${s.readyReplicas ?? 0}/${replicas}, updated ${s.updatedReplicas ?? 0}, available ${s.availableReplicas ?? 0}${image ? ` (${image})` : ""}`;
      },
      explainTimeout: async () => (await healthProblems(ctx)).join("; ") || "the rollout has not finished",
    },
  );
}

async function waitForNodes(ctx: UpgradeContext, deadline: number, task: Task): Promise<void> {
  const problems = (nodes: V1Node[]) =>
    nodes.flatMap((n) => {
      const name = n.metadata?.name;
      const list: string[] = [];
      if (!hasReadyCondition(n)) list.push(`node ${name} is not Ready`);
      if (n.spec?.unschedulable) list.push(`node ${name} is cordoned`);
      const kubelet = kubeletProblem(ctx, n);
      if (kubelet) list.push(kubelet);
      return list;
    });
  await watchWithinDeadline(ctx, deadline, Kinds.Node, (nodes) => problems(nodes).length === 0, {
    onChange: (nodes) => {
      task.output = `nodes: ${nodes.filter(hasReadyCondition).length}/${nodes.length} Ready, ${nodes.filter((n) => n.spec?.unschedulable).length} cordoned`;
    },
    explainTimeout: (nodes) => problems(nodes).join("; "),
  });
}

/** Everything the gate checks in one read: what is still wrong. */
async function healthProblems(ctx: UpgradeContext) {
  const snapshot = await gatherSnapshot(ctx.kube, ctx.namespace);
  ctx.stats.lists += 5;
  ctx.stats.reads += 6;
  // Not this gate's business: the load balancer, the policies, an earlier backup job.
  const report = evaluateHealth(
    { ...snapshot, backupJobs: [] },
    {
      replicas: ctx.config.registry.replicas,
      image: expectedImage(ctx),
      networkPolicies: [],
      requireLoadBalancer: false,
    },
  );
  const kubelets = snapshot.nodes.map((n) => kubeletProblem(ctx, n)).filter((p): p is string => Boolean(p));
  ctx.health = report;
  return [...report.problems, ...kubelets];
}

/** Waits for the objects a snapshot found lagging (endpoints, budget status) and reads again. */
async function waitForServiceAndBudget(ctx: UpgradeContext, deadline: number): Promise<void> {
  const replicas = ctx.config.registry.replicas;
  await watchWithinDeadline(
    ctx,
    deadline,
    namedInNamespace(ctx, Kinds.Endpoints, names.service),
    ([e]) => endpointCount(e) === replicas,
    {
      explainTimeout: ([e]) => `the Service has ${endpointCount(e)} endpoint(s), expected ${replicas}`,
    },
  );
  await watchWithinDeadline(
    ctx,
    deadline,
    namedInNamespace(ctx, Kinds.PodDisruptionBudget, names.podDisruptionBudget),
    ([p]) => p === undefined || (p.status?.currentHealthy ?? 0) >= (p.status?.desiredHealthy ?? 0),
    {
      explainTimeout: ([p]) =>
        `PodDisruptionBudget ${names.podDisruptionBudget}: ${p?.status?.currentHealthy ?? 0} healthy of ${p?.status?.desiredHealthy ?? 0} required`,
    },
  );
}

export async function runHealthGate(ctx: UpgradeContext, task: Task, label: string): Promise<string> {
  const deadline = Date.now() + ctx.options.healthTimeoutMs;
  const fail = (problems: string[]) =>
    new OperationError(`The health gate after ${label} failed.`, {
      details: problems,
      hint: "The registry keeps serving on the replicas that are ready. Find the cause (`clouddrove status`), then --resume to check again, or --rollback.",
    });
  // The waits' own timeout errors say what is stuck; the gate says what that means for the upgrade.
  const timedOut = (error: unknown) => {
    if (error instanceof OperationError && error.message.startsWith("Timed out")) {
      return fail([
        error.message.replace(/^Timed out after (\d+) s waiting for /, "after $1 s, waiting for "),
      ]);
    }
    return error;
  };
  let problems: string[] = [];
  try {
    await waitForRollout(ctx, deadline, task);
    await waitForNodes(ctx, deadline, task);
    problems = await healthProblems(ctx);
    if (problems.length > 0) {
      await waitForServiceAndBudget(ctx, deadline);
      problems = await healthProblems(ctx);
    }
  } catch (error) {
    throw timedOut(error);
  }
  if (problems.length > 0) throw fail(problems);
  const r = ctx.health?.registry;
  let registry = "registry checks off (--no-registry-check)";
  if (ctx.state.registryCheck) {
    task.output = "every replica: GET /, /v2/ with the credentials, pull the check image";
    const checks = await checkEveryReplica(ctx);
    const bad = checks.filter(
      (c) => c.root !== 200 || c.authenticated !== 200 || (ctx.state.checkImage && !c.pulled),
    );
    if (bad.length > 0) {
      throw fail(
        bad.map(
          (c) =>
            `${c.pod}: GET / ${c.root}, /v2/ ${c.authenticated}, check image ${c.pulled ? "pulled" : "NOT pulled"}`,
        ),
      );
    }
    registry = `${checks.length} replica(s) answer / and /v2/${ctx.state.checkImage ? " and serve the image pushed before" : ""}`;
  }
  return `${r?.ready}/${r?.desired} ready on ${r?.image}, one per node and zone; ${ctx.health?.service.endpoints} endpoints; ${registry}`;
}

export function healthStep(node: string): ListrTask<UpgradeContext> {
  return {
    title: `Health gate after ${node}`,
    task: async (ctx, task) => {
      if (reached(ctx.state.progress[node], "healthy")) {
        ctx.skipped = "already passed (resumed)";
        task.skip(`Health gate after ${node}: already passed`);
        return;
      }
      ctx.detail = await runHealthGate(ctx, task, node);
      ctx.state.progress[node] = "healthy";
      await saveState(ctx);
      task.title = `Healthy after ${node}: ${ctx.detail}`;
    },
  };
}
