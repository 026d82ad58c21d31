/**
 * `clouddrove upgrade --node NAME | --all-nodes`: a node's maintenance window done the way an expert does
 * it by hand — preflight and rehearsal, cordon, drain (Eviction API), the bump (registry version,
 * Kubernetes version through the node's EKS nodegroup, or a command), uncordon, health gate — while the
 * registry keeps serving. `--resume` continues an interrupted or failed run; `--rollback` undoes it.
 */
import type { Command } from "commander";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import { addCommandSettings } from "./setting-options.js";

export interface UpgradeFlags {
  node?: string;
  allNodes?: boolean;
  registryVersion?: string;
  kubernetesVersion?: string;
  upgradeCommand?: string;
  dryRun?: boolean;
  force?: boolean;
  deleteEmptydirData?: boolean;
  gracePeriod?: string;
  timeout?: string;
  healthTimeout?: string;
  backupTimeout?: string;
  skipBackup?: boolean;
  registryCheck?: boolean;
  resume?: boolean;
  rollback?: boolean;
  ignoreNewData?: boolean;
  forceConflicts?: boolean;
  sandbox?: boolean;
  waitForLock?: string;
  /** Asked already by the command that runs this one (cluster upgrade): no second question. */
  confirmed?: boolean;
  /** Settings (COMMAND_SETTINGS.upgrade): which EKS cluster the nodegroups are in. */
  region?: string;
  clusterName?: string;
  eksctlTimeout?: string;
}

export function registerUpgrade(program: Command, io: AppIO, state: RunState): void {
  const upgrade = program
    .command("upgrade")
    .description(
      "cordon, drain, upgrade, uncordon and health-check a node (or all, one at a time) with no outage",
    )
    .option("--node <name>", "the node to upgrade")
    .option("--all-nodes", "every node, one at a time, with the full health gate between nodes")
    .option(
      "--registry-version <version>",
      "move the registry to this version, e.g. 3.0.0 (2.x -> 3.x migrates the config)",
    )
    .option(
      "--kubernetes-version <minor>",
      "upgrade the node's EKS nodegroup to this Kubernetes minor, e.g. 1.33",
    )
    .option(
      "--upgrade-command <cmd>",
      "run this shell command while the node is drained (NODE is set in its environment)",
    )
    .option(
      "--dry-run",
      "preflight and rehearsal only: print the plan and the equivalent commands, change nothing",
    )
    .option("--force", "also evict pods no controller recreates (kubectl drain --force)")
    .option(
      "--delete-emptydir-data",
      "also evict pods with emptyDir volumes, losing that data (kubectl drain)",
    )
    .option("--grace-period <seconds>", "termination grace period for evicted pods (default: each pod's own)")
    .option("--timeout <duration>", "deadline for draining one node (default: timeouts.drain, 10m)")
    .option(
      "--health-timeout <duration>",
      "deadline for the health gate after each node (default: timeouts.deploy, 10m)",
    )
    .option("--backup-timeout <duration>", "deadline for the backup before a major registry upgrade", "1h")
    .option("--skip-backup", "do not back up before the forward-only registry 2.x -> 3.x upgrade (warned)")
    .option(
      "--no-registry-check",
      "skip pushing an image before and pulling it after (needs port-forward to the registry pods)",
    )
    .option("--resume", "continue the unfinished upgrade recorded in the cluster")
    .option(
      "--rollback",
      "undo the recorded upgrade: registry image and config back (if the new version wrote no data), uncordon",
    )
    .option(
      "--ignore-new-data",
      "with --rollback: restore the previous registry version even if the new one may have written data",
    )
    .option("--force-conflicts", "take over registry fields another field manager owns")
    .option("--sandbox", "upgrade a node of the simulated sandbox cluster");
  addCommandSettings(upgrade, "upgrade").action(async (flags: UpgradeFlags, command: Command) => {
    await runUpgrade(createContext(io, command, state), flags);
  });
}

/** What this run does, as the lock names it to a second operator. */
function lockCommand(flags: UpgradeFlags): string {
  if (flags.resume) return "upgrade --resume";
  if (flags.rollback) return "upgrade --rollback";
  const parts = ["upgrade", flags.allNodes ? "--all-nodes" : `--node ${flags.node ?? "(asked)"}`];
  if (flags.registryVersion) parts.push(`--registry-version ${flags.registryVersion}`);
  if (flags.kubernetesVersion) parts.push(`--kubernetes-version ${flags.kubernetesVersion}`);
  if (flags.upgradeCommand) parts.push("--upgrade-command …");
  return parts.join(" ");
}

/** Flag combinations that make no sense, refused before anything is read. */
function flagProblems(flags: UpgradeFlags): string[] {
  const problems: string[] = [];
  const targets = Boolean(flags.registryVersion || flags.kubernetesVersion || flags.upgradeCommand);
  if (flags.node && flags.allNodes) problems.push("--node and --all-nodes: choose one");
  if (flags.resume && flags.rollback) problems.push("--resume and --rollback: choose one");
  if ((flags.resume || flags.rollback) && (targets || flags.node || flags.allNodes)) {
    problems.push(
      `--${flags.resume ? "resume" : "rollback"} takes the node and target from the recorded upgrade; drop --node/--all-nodes and the target flags`,
    );
  }
  if (flags.ignoreNewData && !flags.rollback) problems.push("--ignore-new-data only applies to --rollback");
  if (flags.gracePeriod !== undefined && !/^\d+$/.test(flags.gracePeriod)) {
    problems.push(`--grace-period ${flags.gracePeriod}: a whole number of seconds`);
  }
  return problems;
}

/** The flags that select the cluster, for the resume/rollback commands printed after a failure. */
function clusterFlags(ctx: CommandContext, flags: UpgradeFlags): string {
  const parts: string[] = [];
  if (flags.sandbox) parts.push("--sandbox");
  if (ctx.globals.kubeconfig) parts.push(`--kubeconfig ${ctx.globals.kubeconfig}`);
  if (ctx.globals.context) parts.push(`--context ${ctx.globals.context}`);
  if (ctx.globals.namespace) parts.push(`-n ${ctx.globals.namespace}`);
  return parts.join(" ");
}

export async function runUpgrade(ctx: CommandContext, flags: UpgradeFlags): Promise<void> {
  const { UsageError } = await import("../errors.js");
  const problems = flagProblems(flags);
  if (problems.length > 0) {
    throw new UsageError(problems.length === 1 ? (problems[0] as string) : "The flags do not fit together:", {
      details: problems.length === 1 ? [] : problems,
      hint: "See `clouddrove upgrade --help`.",
    });
  }
  const { resolveFromContext } = await import("../config/options.js");
  const { openClusterTarget } = await import("./cluster-target.js");
  const target = await openClusterTarget(ctx, { sandbox: flags.sandbox });
  try {
    // Only the settings' flags (and the target's): the command's own --registry-version/--timeout are
    // targets, not settings.
    const { withTargetSettings } = await import("./cluster-target.js");
    const settingFlags = {
      region: flags.region,
      clusterName: flags.clusterName,
      eksctlTimeout: flags.eksctlTimeout,
      waitForLock: flags.waitForLock,
    };
    const resolved = await resolveFromContext(ctx, withTargetSettings(target.settings, settingFlags));
    const { config } = resolved;
    const execute = () => executeUpgrade(ctx, flags, config, target, clusterFlags(ctx, flags));
    const { withRegistryLock } = await import("./registry-lock.js");
    // The lock is taken before the recorded state is read: a second run that waited sees the first's end.
    const upgraded = flags.dryRun
      ? await execute()
      : await withRegistryLock(ctx, target.kube, config, lockCommand(flags), execute);
    // The version the registry runs now is recorded, so that status and deploy agree with it.
    if (upgraded?.registryVersion) {
      const { recordUpgradedVersion } = await import("./upgrade-record.js");
      await recordUpgradedVersion(ctx, resolved, target.kube, upgraded.registryVersion);
    }
  } finally {
    await target.close();
  }
}

type Config = import("../config/schema.js").Config;
type ClusterTarget = import("./cluster-target.js").ClusterTarget;
type UpgradeTargets = import("../core/upgrade/targets.js").UpgradeTargets;
type V1Deployment = import("@kubernetes/client-node").V1Deployment;
type V1Node = import("@kubernetes/client-node").V1Node;

/** At a terminal: which target (and its value). Without one: exit 2 listing the choices. */
async function askTargets(ctx: CommandContext, controlPlane: string): Promise<UpgradeTargets> {
  const { TARGET_CHOICES } = await import("../core/upgrade/targets.js");
  const { UsageError } = await import("../errors.js");
  if (!ctx.interactive) {
    throw new UsageError("What should the upgrade change? No target was given.", {
      details: TARGET_CHOICES.map((c) => `${c.flag}: ${c.description}`),
      hint: "Pass one of the flags above (at a terminal, clouddrove asks).",
    });
  }
  const kind = await ctx.prompter.select({
    message: "What should the upgrade change while the node is drained?",
    choices: TARGET_CHOICES.map((c) => ({ value: c.kind, name: c.description })),
  });
  const defaults: Record<string, string> = {
    registryVersion: "3.0.0",
    kubernetesVersion: controlPlane.replace(/^v?(\d+\.\d+).*$/, "$1"),
  };
  const value = await ctx.prompter.input({
    message: kind === "upgradeCommand" ? "Command to run (NODE holds the node's name)" : "Version",
    default: defaults[kind],
    validate: (v) => (v.trim() === "" ? "A value is required." : undefined),
  });
  return { [kind]: value.trim() };
}

/** At a terminal: which node (or all). Without one: exit 2 listing the nodes. */
async function askNodes(ctx: CommandContext, nodes: V1Node[]): Promise<string[]> {
  const { UsageError } = await import("../errors.js");
  const nodeName = (n: V1Node) => n.metadata?.name ?? "";
  const names = nodes.map(nodeName);
  const describe = (n: V1Node) =>
    `${n.metadata?.name} (${n.metadata?.labels?.["topology.kubernetes.io/zone"] ?? "no zone"}, ${n.status?.nodeInfo?.kubeletVersion ?? "?"})`;
  if (!ctx.interactive) {
    throw new UsageError("Which node? Neither --node nor --all-nodes was given.", {
      details: nodes.map(describe),
      hint: "Pass --node NAME (one of the above) or --all-nodes.",
    });
  }
  // Never a node name: DNS names do not start with "-".
  const all = "--all-nodes";
  const choice = await ctx.prompter.select({
    message: "Which node?",
    choices: [
      ...nodes.map((n) => ({ value: nodeName(n), name: describe(n) })),
      { value: all, name: "all nodes, one at a time" },
    ],
  });
  return choice === all ? names : [choice];
}

/** Before a new upgrade changes anything: what it will do, and a yes (or --yes). */
async function confirmUpgrade(
  ctx: CommandContext,
  view: { deployment?: V1Deployment },
  targets: UpgradeTargets,
  nodes: string[],
  skipBackup: boolean,
): Promise<boolean> {
  const { upgradeEffects } = await import("../core/upgrade/confirmation.js");
  const { registryContainer } = await import("../core/registry/v3.js");
  const { imageTag } = await import("../core/registry/image.js");
  const { confirmAction } = await import("./confirm.js");
  const image = view.deployment ? registryContainer(view.deployment)?.image : undefined;
  return confirmAction(ctx, {
    action: `Upgrading ${nodes.length === 1 ? `node ${nodes[0]}` : `${nodes.length} nodes`}`,
    effects: upgradeEffects({ nodes, targets, currentRegistryTag: imageTag(image), skipBackup }),
  });
}

async function executeUpgrade(
  ctx: CommandContext,
  flags: UpgradeFlags,
  config: Config,
  target: ClusterTarget,
  cluster: string,
): Promise<UpgradeTargets | undefined> {
  const { parseDurationMs } = await import("../core/validators.js");
  const { UsageError } = await import("../errors.js");
  const { hasTarget, targetConflicts } = await import("../core/upgrade/targets.js");
  const { isUnfinished, newState } = await import("../core/upgrade/state.js");
  const { readStoredUpgrade } = await import("../steps/upgrade/state-store.js");
  const run = await import("../steps/upgrade/run.js");
  const { runTasks } = await import("../io/renderer.js");
  const { upgradeReportText } = await import("../core/upgrade/report.js");

  const duration = (text: string, flag: string) => {
    try {
      return parseDurationMs(text);
    } catch {
      throw new UsageError(`${flag} ${text}: not a duration`, { hint: "Write it like 90s, 10m or 1h30m." });
    }
  };
  const drainTimeoutText = flags.timeout ?? config.timeouts.drain;
  const options = {
    targets: {},
    drain: {
      force: Boolean(flags.force),
      deleteEmptyDirData: Boolean(flags.deleteEmptydirData),
      gracePeriodSeconds: flags.gracePeriod === undefined ? undefined : Number(flags.gracePeriod),
    },
    drainTimeoutMs: duration(drainTimeoutText, "--timeout"),
    drainTimeoutText,
    healthTimeoutMs: duration(flags.healthTimeout ?? config.timeouts.deploy, "--health-timeout"),
    backupTimeoutMs: duration(flags.backupTimeout ?? "1h", "--backup-timeout"),
    eksctlTimeoutMs: duration(config.timeouts.eksctl, "timeouts.eksctl"),
    eksctlTimeoutText: config.timeouts.eksctl,
    evictionRetryMs: Number(ctx.io.env.CLOUDDROVE_EVICTION_RETRY_MS ?? 5000) || 5000,
    registryCheck: flags.registryCheck !== false,
    skipBackup: Boolean(flags.skipBackup),
    forceConflicts: Boolean(flags.forceConflicts),
    resume: Boolean(flags.resume),
    dryRun: Boolean(flags.dryRun),
    signal: ctx.io.signal,
  };
  const kube = target.kube;
  const [stored, view] = await Promise.all([
    readStoredUpgrade(kube, config.namespace),
    run.readClusterView(kube, config.namespace),
  ]);
  let state = stored.state;
  if (flags.rollback || flags.resume) {
    const what = flags.rollback ? "roll back" : "resume";
    const usable = flags.rollback ? state && state.outcome !== "rolled-back" : isUnfinished(state);
    if (!state || !usable) {
      throw new UsageError(
        `There is no upgrade to ${what}${state ? ` (the last one is ${state.outcome})` : ""}.`,
        {
          hint: "Start one with `clouddrove upgrade --node NAME --registry-version V` (or --all-nodes).",
        },
      );
    }
    // The recorded run's choices win: resume drains and checks the way it started.
    options.registryCheck = state.registryCheck;
  } else {
    if (isUnfinished(state) && !flags.dryRun) throw run.unfinishedError(state as never, cluster);
    let targets: UpgradeTargets = {
      registryVersion: flags.registryVersion,
      kubernetesVersion: flags.kubernetesVersion,
      upgradeCommand: flags.upgradeCommand,
    };
    const nodes = flags.allNodes
      ? view.nodes.map((n) => n.metadata?.name as string).sort()
      : flags.node
        ? [flags.node]
        : await askNodes(ctx, view.nodes);
    if (!hasTarget(targets)) targets = await askTargets(ctx, view.controlPlane);
    const conflict = targetConflicts(targets);
    const problems = [...(conflict ? [conflict] : []), ...run.targetProblems(view, targets, nodes)];
    if (problems.length > 0) {
      throw new UsageError(
        problems.length === 1 ? `Refused: ${problems[0]}.` : "Refused; nothing was changed:",
        {
          details: problems.length === 1 ? [] : problems,
          hint: "Choose a target the cluster can take (see above); nothing was changed.",
        },
      );
    }
    state = newState({
      targets,
      nodes,
      allNodes: Boolean(flags.allNodes),
      drain: options.drain,
      registryCheck: options.registryCheck,
      now: new Date().toISOString(),
    });
    const ask = !flags.dryRun && !flags.confirmed;
    if (ask && !(await confirmUpgrade(ctx, view, targets, nodes, options.skipBackup))) return undefined;
  }
  const upgrade = run.buildContext({
    kube,
    config,
    options: { ...options, targets: state.targets },
    state,
    stored,
    view,
    environment: { env: ctx.io.env, cwd: ctx.io.cwd },
  });
  // A rollback restores the previous registry only if the new one was applied (it clears the mark).
  const bumpedBeforeRollback = Boolean(flags.rollback && state.registry?.bumpedAt);
  const { rollbackTasks } = await import("../steps/upgrade/rollback.js");
  const { upgradeTasks } = await import("../steps/upgrade/index.js");
  const tasks = flags.rollback
    ? rollbackTasks({ ignoreNewData: Boolean(flags.ignoreNewData) })
    : upgradeTasks(upgrade);
  const outcome = await run.runWithReport(upgrade, tasks, (t) => runTasks(ctx, t, upgrade), {
    node: flags.node ?? state.nodes[0] ?? null,
    clusterFlags: cluster,
  });
  if (outcome.error !== undefined) {
    if (ctx.out.format === "json") await ctx.out.result(outcome.report, () => "");
    throw outcome.error;
  }
  for (const warning of outcome.report.warnings) ctx.out.warn(warning);
  const blocked =
    flags.dryRun &&
    upgrade.warnings.length > 0 &&
    Object.values(upgrade.plan.rehearsal).some((l) => l.some((x) => x.startsWith("BLOCKED")));
  await ctx.out.result(outcome.report, () =>
    flags.rollback ? `Rolled back on ${target.label}.` : upgradeReportText(outcome.report, target.label),
  );
  if (blocked) ctx.state.exitCode = 1;
  if (flags.dryRun) return undefined;
  if (!flags.rollback) return state.targets;
  // A rollback that undid a registry bump leaves the previous version running.
  const { imageTag } = await import("../core/registry/image.js");
  const previous = bumpedBeforeRollback ? imageTag(state.registry?.previousImage) : undefined;
  return previous ? { registryVersion: previous } : undefined;
}
