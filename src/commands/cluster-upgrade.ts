/**
 * `clouddrove cluster upgrade --kubernetes-version X`: the way out of an ageing Kubernetes version. The
 * control plane (EKS, one minor up), then the add-ons, then the nodes: with the registry deployed, one
 * node at a time with the registry's drain and health gates (`upgrade --all-nodes`); without it, each
 * node group by EKS itself. With --sandbox the same EKS calls go to the sandbox's AWS endpoint.
 */
import { clusterSettings, type Flags } from "./cluster-settings.js";
import { kubeConnection, runningSandbox, sandboxSettings, withTargetSettings } from "./cluster-target.js";
import type { CommandContext } from "./context.js";

export async function clusterUpgrade(ctx: CommandContext, flags: Flags): Promise<void> {
  const { UsageError } = await import("../errors.js");
  const target = flags.kubernetesVersion as string | undefined;
  if (!target) {
    throw new UsageError("cluster upgrade needs the Kubernetes minor to upgrade to.", {
      hint: "Pass --kubernetes-version 1.NN (one minor above the cluster's; `clouddrove cluster verify` says which it runs).",
    });
  }
  const { connectToCluster } = await import("../steps/cluster/connect.js");
  const { addonsTask, controlPlaneTask, nodegroupsTask, nodeVersions, readUpgradeFacts, registryDeployed } =
    await import("../steps/cluster/upgrade.js");
  const { checkUpgradeTarget, clusterUpgradePlan } = await import("../core/cluster/upgrade-plan.js");
  const { parseDurationMs } = await import("../core/validators.js");
  const { resolveFromContext } = await import("../config/options.js");
  const { runTasks } = await import("../io/renderer.js");

  let settings: Flags = flags;
  let connect = kubeConnection(ctx);
  if (flags.sandbox === true) {
    const sandbox = await runningSandbox(ctx);
    // The sandbox's name and region; the target version is this command's, not the sandbox's.
    settings = {
      ...withTargetSettings(sandboxSettings(sandbox), flags),
      kubernetesVersion: undefined,
    } as Flags;
    connect = {
      kubeconfigPath: sandbox.kubeconfig,
      context: sandbox.context,
      env: ctx.io.env,
      signal: ctx.io.signal,
    };
  }
  const { values, clients } = await clusterSettings(ctx, settings, false);
  const kube = await connectToCluster({ clients, name: values.name, region: values.region, connect });
  const nodes = await nodeVersions(kube);
  const facts = await readUpgradeFacts(clients, values.name, target, nodes);
  checkUpgradeTarget(facts);
  const plan = clusterUpgradePlan(facts);
  if (flags.dryRun === true) {
    await ctx.out.result({ dryRun: true, plan, ...facts }, () =>
      [...plan, "", "Dry run: nothing was changed."].join("\n"),
    );
    return;
  }
  if (ctx.interactive) {
    ctx.out.info(plan.join("\n"));
    // One way: EKS never moves a control plane back.
    const go = await ctx.prompter.confirm({
      message: "Upgrade the cluster (this cannot be undone)?",
      default: false,
    });
    if (!go) return ctx.out.info("Nothing was changed.");
  } else if (!ctx.globals.yes) {
    throw new UsageError(
      "cluster upgrade changes the cluster for good and asks first; there is no terminal to ask at.",
      {
        details: plan,
        hint: "Pass --yes to upgrade without asking (or --dry-run to see the plan).",
      },
    );
  }

  const { config } = await resolveFromContext(ctx, settings);
  const context = {
    clients,
    facts,
    poll: {
      timeoutMs: parseDurationMs(config.timeouts.eksctl),
      intervalMs: 1000,
      maxIntervalMs: 15_000,
      signal: ctx.io.signal,
    },
    done: [] as string[],
  };
  const behind = nodes.filter((n) => n.version !== target);
  const withRegistry = behind.length > 0 && (await registryDeployed(kube, config.namespace));
  const nodegroups = [
    ...new Set(behind.map((n) => n.nodegroup).filter((g): g is string => Boolean(g))),
  ].sort();
  await runTasks(
    ctx,
    [
      controlPlaneTask(),
      addonsTask(),
      ...(behind.length > 0 && !withRegistry ? [nodegroupsTask(nodegroups)] : []),
    ],
    context,
  );
  if (withRegistry) {
    // The registry's own maintenance, node by node: drain through the disruption budget, the node
    // group's version update, uncordon, health gate.
    const { runUpgrade } = await import("./upgrade.js");
    await runUpgrade(ctx, {
      allNodes: true,
      kubernetesVersion: target,
      sandbox: flags.sandbox === true,
      confirmed: true,
    });
    context.done.push(`nodes ${behind.map((n) => n.name).join(", ")} -> ${target}`);
  }
  await ctx.out.result({ cluster: values.name, kubernetesVersion: target, done: context.done }, () =>
    [
      `Cluster ${values.name} runs Kubernetes ${target}${context.done.length === 0 ? " already: nothing to do" : ""}.`,
      ...context.done.map((d) => `  - ${d}`),
    ].join("\n"),
  );
}
