/**
 * Step: the bump, while the node is drained — the registry's version (ConfigMap and Deployment moved to
 * the new version's layout by server-side apply, after the rollback payload and the registry's tag
 * fingerprint are saved), the node's Kubernetes version through its EKS managed nodegroup (the EKS API's
 * UpdateNodegroupVersion, waited on with DescribeUpdate: a replacement node joins, the old one is drained
 * and removed), and/or the user's command.
 */
import type { KubernetesObject, V1Node } from "@kubernetes/client-node";
import type { ListrTask } from "listr2";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { forApply } from "../../core/deploy/objects.js";
import { majorOf, withTag } from "../../core/registry/image.js";
import { hasV3Layout, registryContainer, v3ConfigProblems } from "../../core/registry/v3.js";
import { htpasswdLineOf, registryObjectsAt } from "../../core/render/at-version.js";
import { names } from "../../core/render/names.js";
import { liveName, reached } from "../../core/upgrade/state.js";
import { minorVersion } from "../../core/upgrade/targets.js";
import { InterruptedError, OperationError } from "../../errors.js";
import type { UpgradeContext } from "./context.js";
import { registryFingerprint } from "./registry-access.js";
import { markNode, saveState } from "./state-store.js";

type Task = { output: string; title: string };

async function applyChecked(ctx: UpgradeContext, object: KubernetesObject): Promise<void> {
  try {
    await ctx.kube.apply(object, { force: ctx.options.forceConflicts });
    ctx.stats.patches++;
  } catch (error) {
    const cause = (error as { cause?: { code?: number } }).cause;
    if (cause?.code === 409) {
      throw new OperationError(
        `Another field manager owns fields of ${object.kind} ${object.metadata?.name} that the upgrade changes.`,
        {
          cause: error,
          details: [(error as Error).message],
          hint: "Someone changed them with kubectl or another tool. Run again with --resume --force-conflicts to let clouddrove take them over.",
        },
      );
    }
    throw error;
  }
}

async function bumpRegistry(ctx: UpgradeContext, task: Task): Promise<string> {
  const version = ctx.state.targets.registryVersion as string;
  const [configMap, deployment, htpasswd] = await Promise.all([
    ctx.kube.get(named(Kinds.ConfigMap, names.configMap, ctx.namespace)),
    ctx.kube.get(named(Kinds.Deployment, names.deployment, ctx.namespace)),
    ctx.kube.get(named(Kinds.Secret, names.htpasswdSecret, ctx.namespace)),
  ]);
  ctx.stats.reads += 3;
  if (!configMap || !deployment) {
    throw new OperationError("The registry's ConfigMap or Deployment is missing.", {
      hint: "Run `clouddrove deploy` first.",
    });
  }
  const current = registryContainer(deployment)?.image as string;
  const targetImage = withTag(current, version);
  const v3 = (majorOf(version) ?? 2) >= 3;
  if (current === targetImage && (!v3 || hasV3Layout(deployment)))
    return `registry already at ${targetImage}`;

  // What --rollback restores, saved before anything of the registry changes (once per upgrade).
  if (!ctx.previous.deployment) {
    ctx.previous.config = configMap.data?.[names.configMapKeys.registryConfig];
    ctx.previous.deployment = forApply(deployment, "apps/v1", "Deployment");
  }
  task.output = "reading the registry's repositories and tags (the rollback rule)";
  const { fingerprint, note } = await registryFingerprint(ctx);
  ctx.state.registry = {
    previousImage: ctx.state.registry?.previousImage ?? current,
    targetImage,
    fingerprint,
    fingerprintNote: note,
  };
  if (!fingerprint)
    ctx.warnings.push(
      `the registry's tags could not be fingerprinted before the bump (${note}); --rollback will need --ignore-new-data`,
    );
  await saveState(ctx);

  const next = await registryObjectsAt(configMap, deployment, version, htpasswdLineOf(htpasswd));
  const text = next.configMap.data?.[names.configMapKeys.registryConfig] as string;
  const problems = v3 ? await v3ConfigProblems(text) : [];
  if (problems.length > 0) {
    throw new OperationError(
      `The migrated registry config would not work with ${targetImage}; nothing of the registry was changed.`,
      {
        details: problems,
        hint: `Fix ConfigMap ${names.configMap} (kubectl -n ${ctx.namespace} edit configmap ${names.configMap}), then run again with --resume.`,
      },
    );
  }
  task.output = `applying ConfigMap ${names.configMap} and Deployment ${names.deployment} (${targetImage})`;
  await applyChecked(ctx, forApply(next.configMap, "v1", "ConfigMap"));
  await applyChecked(ctx, forApply(next.deployment, "apps/v1", "Deployment"));
  ctx.state.registry.bumpedAt = new Date().toISOString();
  await saveState(ctx);
  const dropped = next.removed.length + next.changed.length;
  for (const line of [...next.removed, ...next.changed]) ctx.warnings.push(`registry config: ${line}`);
  return `registry ${current} -> ${targetImage}${v3 ? `, config at /etc/distribution/config.yml${dropped ? `, ${dropped} key(s) migrated` : ""}, tracing off` : ""}`;
}

async function bumpKubernetes(ctx: UpgradeContext, node: string, task: Task): Promise<string> {
  const version = ctx.state.targets.kubernetesVersion as string;
  const info = ctx.preflight.get(node)?.nodeInfo;
  const nodegroup = info?.nodegroup;
  if (!nodegroup) {
    throw new OperationError(
      `Node ${node} belongs to no EKS nodegroup (no label eks.amazonaws.com/nodegroup).`,
      {
        hint: "--kubernetes-version works for EKS managed nodegroups; for other nodes use --upgrade-command. The node stays cordoned: --rollback uncordons it.",
      },
    );
  }
  const nodeName = (n: V1Node) => n.metadata?.name ?? "";
  const before = new Set((await ctx.kube.list(Kinds.Node)).map(nodeName));
  ctx.stats.lists++;
  const cluster = info?.cluster ?? ctx.config.cluster.name;
  const env = ctx.environment.env;
  const region = ctx.config.cluster.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new OperationError(`The AWS region of cluster ${cluster} is not known.`, {
      hint: "Set cluster.region (--region, CLOUDDROVE_CLUSTER_REGION) or AWS_REGION, then --resume. The node stays cordoned.",
    });
  }
  const { awsClients, describeNodegroup, updateNodegroupVersion } = await import("../../adapters/aws.js");
  const { eks } = awsClients(region, env);
  const group = await describeNodegroup(eks, cluster, nodegroup);
  let through = `nodegroup ${nodegroup} already at ${version}`;
  if (group.version !== version) {
    task.output = `asking EKS to update nodegroup ${nodegroup} to ${version}: a new node joins, then ${node} is drained and removed`;
    const updateId = await updateNodegroupVersion(
      eks,
      { clusterName: cluster, nodegroupName: nodegroup, version },
      // EKS updates take minutes: look again after 1 s, 2 s, 4 s ... at most every 15 s.
      {
        timeoutMs: ctx.options.eksctlTimeoutMs,
        intervalMs: 1000,
        maxIntervalMs: 15_000,
        signal: ctx.options.signal,
      },
      (status) => {
        task.output = status;
      },
    );
    through = `EKS update ${updateId}`;
  }
  const after = await ctx.kube.list(Kinds.Node, {
    labelSelector: `eks.amazonaws.com/nodegroup=${nodegroup}`,
  });
  ctx.stats.lists++;
  const wanted = minorVersion(version);
  const atTarget = (n: V1Node) => {
    const v = minorVersion(n.status?.nodeInfo?.kubeletVersion);
    return v !== undefined && wanted !== undefined && v[0] === wanted[0] && v[1] === wanted[1];
  };
  const replacement = after.find((n) => !before.has(nodeName(n)) && atTarget(n));
  if (replacement) {
    ctx.state.replacements[node] = nodeName(replacement);
    return `nodegroup ${nodegroup} at ${version} (${through}): ${node} replaced by ${nodeName(replacement)}`;
  }
  const same = after.find((n) => nodeName(n) === node);
  if (same && atTarget(same)) return `nodegroup ${nodegroup} (${through}): ${node} already runs ${version}`;
  throw new OperationError(
    `After the nodegroup upgrade no node of ${nodegroup} runs Kubernetes ${version}.`,
    {
      hint: `Check the nodegroup (aws eks describe-nodegroup --cluster-name ${cluster} --nodegroup-name ${nodegroup}; kubectl get nodes -l eks.amazonaws.com/nodegroup=${nodegroup}), then --resume.`,
    },
  );
}

async function runUpgradeCommand(ctx: UpgradeContext, node: string, task: Task): Promise<string> {
  const command = ctx.state.targets.upgradeCommand as string;
  const { runShellCommand } = await import("../../adapters/shell-command.js");
  const result = await runShellCommand(command, {
    env: { ...ctx.environment.env, NODE: node },
    cwd: ctx.environment.cwd,
    timeoutMs: ctx.options.eksctlTimeoutMs,
    signal: ctx.options.signal,
    onLine: (line) => {
      task.output = line;
    },
  });
  if (result.canceled)
    throw new InterruptedError(`Interrupted while running the upgrade command on ${node}.`);
  if (!result.ok) {
    throw new OperationError(
      `The upgrade command failed on ${node} (${result.timedOut ? `timed out after ${ctx.options.eksctlTimeoutText}` : `exit ${result.exitCode}`}).`,
      {
        details: result.lastLines.slice(-10),
        hint: "The node stays cordoned and drained. Fix the cause and continue with --resume (the command runs again), or undo with --rollback.",
      },
    );
  }
  return `\`${command}\` succeeded on ${node}`;
}

export function bumpStep(node: string): ListrTask<UpgradeContext> {
  return {
    title: `Upgrade ${node}`,
    task: async (ctx, task) => {
      if (reached(ctx.state.progress[node], "bumped")) {
        ctx.skipped = "already done (resumed)";
        task.skip(`Upgrade ${node}: already done`);
        return;
      }
      const done: string[] = [];
      if (ctx.state.targets.registryVersion) done.push(await bumpRegistry(ctx, task));
      if (ctx.state.targets.kubernetesVersion) done.push(await bumpKubernetes(ctx, node, task));
      if (ctx.state.targets.upgradeCommand) done.push(await runUpgradeCommand(ctx, node, task));
      ctx.state.progress[node] = "bumped";
      await saveState(ctx);
      const name = liveName(ctx.state, node);
      if (name === node) await markNode(ctx, node, true);
      ctx.detail = done.join("; ") || "nothing to change";
      task.title = `Upgraded ${node}: ${ctx.detail}`;
    },
  };
}
