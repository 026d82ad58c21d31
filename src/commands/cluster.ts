/**
 * `clouddrove cluster create | verify | delete`: the regional EKS cluster (three zones, one worker per
 * zone) and the shared EFS storage the registry needs. Flags are declared here eagerly; everything heavy
 * (AWS SDK, execa, listr2, client-node, yaml) is imported inside the actions.
 * Each action: resolve options -> ask what is missing -> preflight -> plan -> confirm -> steps -> report.
 */
import type { Command } from "commander";
import type { AwsClients } from "../adapters/aws.js";
import type { Source } from "../config/resolve.js";
import type { SettingValue } from "../config/settings.js";
import type { ZoneInfo } from "../core/cluster/preflight.js";
import type { VerifyFacts } from "../core/cluster/verify.js";
import type { KubeStepContext } from "../steps/cluster/connect.js";
import type { DeleteContext } from "../steps/cluster/delete.js";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import { addSettingOptions, settingGroups } from "./setting-options.js";

type Flags = Record<string, unknown>;

const EXPLICIT: ReadonlySet<Source> = new Set(["flag", "env", "set", "file"]);

export function registerCluster(program: Command, io: AppIO, state: RunState): void {
  const cluster = program
    .command("cluster")
    .description("the regional EKS cluster across three zones that the registry runs on");

  const create = cluster
    .command("create")
    .description("create (or reconcile) the EKS cluster, its EFS storage, and verify them")
    .option(
      "--dry-run",
      "show the plan and the eksctl ClusterConfig (-o yaml: the config alone); change nothing",
    )
    .option("--sandbox", "set up the simulated three-zone sandbox cluster instead (no eksctl, no AWS)");
  addSettingOptions(create, settingGroups.cluster);
  create.action(async (flags: Flags, command: Command) => {
    await clusterCreate(createContext(io, command, state), flags);
  });

  const verify = cluster
    .command("verify")
    .description(
      "check zones, workers, network policy, CSI drivers and EFS mount targets (exit 1 if any fails)",
    )
    .option("--sandbox", "check the simulated sandbox cluster instead (no AWS)");
  addSettingOptions(verify, settingGroups.cluster);
  verify.action(async (flags: Flags, command: Command) => {
    await clusterVerify(createContext(io, command, state), flags);
  });

  const remove = cluster
    .command("delete")
    .description("delete the cluster (typed confirmation); the EFS data is kept unless --delete-data")
    .option("--confirm <name>", "the cluster's name, confirming the deletion without a prompt")
    .option("--delete-data", "also delete the EFS file system with the registry's data (asks a second time)")
    .option(
      "--confirm-delete-data <fs-id>",
      "the EFS file system id, confirming --delete-data without a prompt",
    )
    .option("--dry-run", "show what would be deleted; change nothing");
  addSettingOptions(remove, settingGroups.cluster);
  remove.action(async (flags: Flags, command: Command) => {
    await clusterDelete(createContext(io, command, state), flags);
  });
}

/** Resolves the cluster settings; at a terminal, asks region, name, zones and version (defaults offered). */
async function clusterSettings(ctx: CommandContext, flags: Flags, ask: boolean) {
  const { resolveFromContext } = await import("../config/options.js");
  const { missingSettingsError, parseSettingValue } = await import("../config/resolve.js");
  const { requiredSettings } = await import("../config/schema.js");
  const { SETTINGS_BY_KEY } = await import("../config/settings.js");
  const aws = await import("../adapters/aws.js");
  const { usableZones } = await import("../core/cluster/preflight.js");

  const first = await resolveFromContext(ctx, flags);
  const answers = new Map<string, SettingValue>();
  let clients: AwsClients | undefined;
  let offered: ZoneInfo[] | undefined;
  if (ask && ctx.interactive) {
    const needs = (key: string) => !EXPLICIT.has(first.sources.get(key) ?? "default");
    const validator = (key: string, extra?: (v: SettingValue) => string | undefined) => (text: string) => {
      try {
        const value = parseSettingValue(SETTINGS_BY_KEY.get(key) as never, text.trim(), "your answer");
        return extra?.(value);
      } catch (error) {
        return (error as Error).message.replace(/^.*? is not valid: /, "Expected ");
      }
    };
    const askText = async (
      key: string,
      message: string,
      fallback?: string,
      extra?: (v: SettingValue) => string | undefined,
    ) => {
      const text = await ctx.prompter.input({ message, default: fallback, validate: validator(key, extra) });
      answers.set(key, parseSettingValue(SETTINGS_BY_KEY.get(key) as never, text.trim(), "your answer"));
    };
    if (needs("cluster.region")) {
      const known = first.config.cluster.region ?? ctx.io.env.AWS_REGION ?? ctx.io.env.AWS_DEFAULT_REGION;
      await askText("cluster.region", "AWS region of the cluster", known);
    }
    const region =
      (answers.get("cluster.region") as string | undefined) ?? (first.config.cluster.region as string);
    if (needs("cluster.name")) await askText("cluster.name", "EKS cluster name", first.config.cluster.name);
    clients = aws.awsClients(region);
    if (needs("cluster.zones")) {
      offered = await aws.listZones(clients.ec2, region);
      const usable = usableZones(offered);
      await askText(
        "cluster.zones",
        `Three availability zones (${region} offers ${usable.join(", ")})`,
        usable.slice(0, 3).join(","),
        (v) => {
          const zones = v as string[];
          const foreign = zones.filter((z) => !usable.includes(z));
          if (foreign.length) return `Not offered by ${region}: ${foreign.join(", ")}`;
          return new Set(zones).size === 3 ? undefined : "Name exactly three distinct zones.";
        },
      );
    }
    if (needs("cluster.kubernetesVersion")) {
      const supported = await aws.supportedVersions(clients.eks);
      const current = first.config.cluster.kubernetesVersion;
      if (supported?.length) {
        const version = await ctx.prompter.select({
          message: "Kubernetes version",
          choices: [...supported].reverse().map((value) => ({ value })),
          default: supported.includes(current) ? current : supported.at(-1),
        });
        answers.set("cluster.kubernetesVersion", version);
      } else await askText("cluster.kubernetesVersion", "Kubernetes version", current);
    }
  }
  const resolved = answers.size > 0 ? await resolveFromContext(ctx, flags, answers) : first;
  const missing = requiredSettings(resolved.config, "cluster").filter((key) => !resolved.values.has(key));
  if (missing.length > 0) throw missingSettingsError(missing);
  const { cluster } = resolved.config;
  const values = {
    name: cluster.name,
    region: cluster.region as string,
    zones: cluster.zones,
    kubernetesVersion: cluster.kubernetesVersion,
    instanceType: cluster.instanceType,
  };
  return { resolved, values, clients: clients ?? aws.awsClients(values.region), offered };
}

async function clusterCreate(ctx: CommandContext, flags: Flags): Promise<void> {
  if (flags.sandbox === true) return clusterCreateSandbox(ctx, flags);
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join, resolve } = await import("node:path");
  const { parseDurationMs } = await import("../core/validators.js");
  const { renderClusterConfig } = await import("../core/cluster/cluster-config.js");
  const { createPlan } = await import("../core/cluster/plan.js");
  const { eksctlCommandLine } = await import("../adapters/eksctl.js");
  const { preflightCreate } = await import("../steps/cluster/preflight.js");
  const { readClusterTemplate } = await import("../steps/cluster/templates.js");
  const { eksctlCommands, eksctlTask } = await import("../steps/cluster/eksctl.js");
  const { efsTask } = await import("../steps/cluster/efs.js");
  const { recordTask } = await import("../steps/cluster/record.js");
  const { storageTask } = await import("../steps/cluster/storage.js");
  const { verifyTask } = await import("../steps/cluster/facts.js");
  const { runTasks } = await import("../io/renderer.js");

  const dryRun = flags.dryRun === true;
  const { resolved, values, clients, offered } = await clusterSettings(ctx, flags, true);
  const environment = { env: ctx.io.env, cwd: ctx.io.cwd };
  const pre = await preflightCreate({ clients, values, offered, eksctl: dryRun ? undefined : environment });
  const rendered = renderClusterConfig(readClusterTemplate(), pre.values);
  const configFile = resolve(ctx.io.cwd, ctx.globals.config ?? "clouddrove.yaml");
  const commands = eksctlCommands(
    { exists: pre.existing !== undefined, name: pre.values.name, region: pre.values.region },
    `eksctl-${pre.values.name}.yaml`,
    ctx.globals.kubeconfig,
  ).map(eksctlCommandLine);
  const plan = createPlan({
    values: pre.values,
    exists: pre.existing !== undefined,
    eksctlCommands: commands,
    configFile,
    account: pre.identity.account,
  });

  if (dryRun) {
    if (ctx.out.format === "yaml") return ctx.out.stdout(rendered.text);
    await ctx.out.result({ dryRun: true, plan, clusterConfig: rendered.object }, () =>
      [...plan, "", "# eksctl ClusterConfig (nothing was created):", rendered.text].join("\n"),
    );
    return;
  }
  if (ctx.interactive) {
    ctx.out.info(plan.join("\n"));
    const go = await ctx.prompter.confirm({
      message: pre.existing ? "Reconcile it?" : "Create it?",
      default: true,
    });
    if (!go) return ctx.out.info("Nothing was created.");
  }

  const workDir = mkdtempSync(join(tmpdir(), "clouddrove-eksctl-"));
  const connect = {
    kubeconfigPath: ctx.globals.kubeconfig,
    context: ctx.globals.context,
    env: ctx.io.env,
    signal: ctx.io.signal,
  };
  const context: KubeStepContext = {
    values: pre.values,
    clusterConfig: rendered.text,
    existing: pre.existing,
    clients,
    mountTargetsCreated: [],
    warnings: [],
    done: [],
  };
  try {
    await runTasks(
      ctx,
      [
        eksctlTask({
          ...environment,
          timeoutMs: parseDurationMs(resolved.config.timeouts.eksctl),
          timeoutText: resolved.config.timeouts.eksctl,
          signal: ctx.io.signal,
          workDir,
          kubeconfigPath: ctx.globals.kubeconfig,
        }),
        efsTask({ timeoutMs: 10 * 60_000, pollIntervalMs: 10_000, signal: ctx.io.signal }),
        recordTask({ cwd: ctx.io.cwd, configPath: ctx.globals.config }),
        storageTask(connect),
        verifyTask(connect),
      ],
      context,
    );
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  await reportCreate(ctx, context, { reconciled: pre.existing !== undefined });
}

/** The result of `cluster create` (real or sandbox): what was done, where things are, the verify table. */
async function reportCreate(
  ctx: CommandContext,
  context: KubeStepContext,
  options: { reconciled: boolean; sandboxDir?: string },
): Promise<void> {
  const { createResult } = await import("../core/cluster/report.js");
  for (const warning of context.warnings) ctx.out.warn(warning);
  if (context.report && !context.report.ok) ctx.state.exitCode = 1;
  const { data, text } = createResult({ ...context, ...options }, ctx.out.paint);
  await ctx.out.result(data, text);
}

/**
 * `cluster create --sandbox`: the simulated cluster (started from its saved state, or seeded with the
 * requested zones), the addons' and EFS's simulated counterparts, the same record, storage classes and
 * verify as for EKS.
 */
async function clusterCreateSandbox(ctx: CommandContext, flags: Flags): Promise<void> {
  const { resolveFromContext } = await import("../config/options.js");
  const { defaultStateDir } = await import("../sandbox/index.js");
  const { loadState } = await import("../sandbox/persist.js");
  const { SANDBOX_EFS_ID, sandboxSpeed } = await import("./cluster-target.js");
  const { sandboxPlan } = await import("../core/cluster/plan.js");
  const { createInSandbox } = await import("../steps/cluster/sandbox.js");

  const { config } = await resolveFromContext(ctx, flags);
  const region = config.cluster.region ?? "eu-west-1";
  const values = {
    name: config.cluster.name,
    region,
    zones:
      config.cluster.zones.length > 0 ? config.cluster.zones : ["a", "b", "c"].map((z) => `${region}${z}`),
    kubernetesVersion: config.cluster.kubernetesVersion,
    instanceType: config.cluster.instanceType,
  };
  const stateDir = defaultStateDir(ctx.io.env);
  const existing = (await loadState(stateDir)) !== undefined;
  const fileSystemId = config.storage.efs.fileSystemId ?? SANDBOX_EFS_ID;
  if (flags.dryRun === true) {
    const plan = sandboxPlan({ values, existing, stateDir, fileSystemId });
    await ctx.out.result({ dryRun: true, sandbox: true, plan }, () =>
      [...plan, "", "Dry run: nothing was changed."].join("\n"),
    );
    return;
  }
  ctx.out.info(
    ctx.out.paint.yellow(
      `The sandbox: a simulated three-zone cluster on this machine (no AWS); state in ${stateDir}.`,
    ),
  );
  const context = await createInSandbox({
    target: ctx,
    values,
    stateDir,
    speed: sandboxSpeed(ctx.io.env),
    fileSystemId,
    env: ctx.io.env,
  });
  await reportCreate(ctx, context, { reconciled: existing, sandboxDir: stateDir });
}

async function clusterVerify(ctx: CommandContext, flags: Flags): Promise<void> {
  const { connectKube } = await import("../adapters/kube.js");
  const { describeCluster } = await import("../adapters/aws.js");
  const { assertContextReaches } = await import("../steps/cluster/connect.js");
  const { gatherFacts, readSimulatedAws } = await import("../steps/cluster/facts.js");
  const { evaluateCluster, renderVerifyTable } = await import("../core/cluster/verify.js");

  let facts: VerifyFacts;
  let name: string;
  if (flags.sandbox === true) {
    const { resolveFromContext } = await import("../config/options.js");
    const { UsageError } = await import("../errors.js");
    const { defaultStateDir } = await import("../sandbox/index.js");
    const { loadState } = await import("../sandbox/persist.js");
    const { openClusterTarget } = await import("./cluster-target.js");
    const { config } = await resolveFromContext(ctx, flags);
    name = config.cluster.name;
    if ((await loadState(defaultStateDir(ctx.io.env))) === undefined) {
      throw new UsageError("There is no sandbox cluster yet.", {
        hint: "Create it with `clouddrove cluster create --sandbox`.",
      });
    }
    const target = await openClusterTarget(ctx, { sandbox: true });
    try {
      const simulated = await readSimulatedAws(target.kube);
      facts = await gatherFacts({ kube: target.kube, clusterName: name, simulated });
    } finally {
      await target.close();
    }
  } else {
    const { resolved, values, clients } = await clusterSettings(ctx, flags, false);
    name = values.name;
    const cluster = await describeCluster(clients.eks, values.name);
    const kube = await connectKube({
      kubeconfigPath: ctx.globals.kubeconfig,
      context: ctx.globals.context,
      env: ctx.io.env,
      signal: ctx.io.signal,
    });
    if (cluster) assertContextReaches(kube, cluster, values.region);
    facts = await gatherFacts({
      kube,
      clusterName: values.name,
      aws: clients,
      fileSystemId: resolved.config.storage.efs.fileSystemId,
    });
  }
  const report = evaluateCluster(name, facts);
  if (!report.ok) ctx.state.exitCode = 1;
  await ctx.out.result(report, () => renderVerifyTable(report, ctx.out.paint));
}

async function clusterDelete(ctx: CommandContext, flags: Flags): Promise<void> {
  const { UsageError } = await import("../errors.js");
  const { parseDurationMs } = await import("../core/validators.js");
  const { eksctlCommandLine, eksctlVersion } = await import("../adapters/eksctl.js");
  const { deletePlan } = await import("../core/cluster/plan.js");
  const { deleteTasks, discoverDeleteTargets, eksctlDeleteArgs } = await import("../steps/cluster/delete.js");
  const { forgetSettings } = await import("../steps/cluster/record.js");
  const { runTasks } = await import("../io/renderer.js");

  const dryRun = flags.dryRun === true;
  const deleteData = flags.deleteData === true;
  const { resolved, values, clients } = await clusterSettings(ctx, flags, false);
  const { name, region } = values;
  // Decided before anything is looked up: without a person to ask, only --confirm NAME deletes.
  if (!dryRun && !ctx.interactive && flags.confirm !== name) {
    throw new UsageError(
      flags.confirm === undefined
        ? `Deleting cluster ${name} needs a typed confirmation.`
        : `--confirm ${String(flags.confirm)} does not match the cluster name ${name}; nothing was deleted.`,
      { hint: `Pass --confirm ${name} (the exact cluster name) to delete it without a prompt.` },
    );
  }

  const environment = { env: ctx.io.env, cwd: ctx.io.cwd };
  if (!dryRun) await eksctlVersion(environment);
  const found = await discoverDeleteTargets({
    clients,
    name,
    region,
    connect: {
      kubeconfigPath: ctx.globals.kubeconfig,
      context: ctx.globals.context,
      env: ctx.io.env,
      signal: ctx.io.signal,
    },
  });
  const { cluster, fileSystem, mountTargets, securityGroupId, kube, loadBalancers } = found;
  const plan = deletePlan({
    name,
    region,
    clusterExists: cluster !== undefined,
    loadBalancers,
    fileSystemId: fileSystem?.id,
    mountTargets,
    securityGroupId,
    deleteData,
    eksctlCommand: eksctlCommandLine(eksctlDeleteArgs(name, region)),
  });
  if (dryRun) {
    await ctx.out.result({ dryRun: true, plan }, () =>
      [...plan, "", "Dry run: nothing was deleted."].join("\n"),
    );
    return;
  }

  if (ctx.interactive) {
    ctx.out.info(plan.join("\n"));
    await ctx.prompter.input({
      message: `Type the cluster name (${name}) to delete it`,
      validate: (v) => (v.trim() === name ? undefined : `Type ${name} exactly, or press Ctrl-C to keep it.`),
    });
  }
  if (deleteData && fileSystem) {
    if (ctx.interactive) {
      await ctx.prompter.input({
        message: `The registry's data will be gone for good. Type the file system id (${fileSystem.id}) to delete it`,
        validate: (v) =>
          v.trim() === fileSystem.id ? undefined : `Type ${fileSystem.id} exactly, or press Ctrl-C.`,
      });
    } else if (flags.confirmDeleteData !== fileSystem.id) {
      throw new UsageError(
        `--delete-data needs a second confirmation of the EFS file system ${fileSystem.id}; nothing was deleted.`,
        {
          hint: `Pass --confirm-delete-data ${fileSystem.id}, or drop --delete-data to keep the data.`,
        },
      );
    }
  }

  const context: DeleteContext = {
    name,
    region,
    clients,
    clusterExists: cluster !== undefined,
    kube,
    loadBalancers,
    fileSystemId: fileSystem?.id,
    mountTargets,
    securityGroupId,
    deleteData,
    done: [],
    warnings: [],
  };
  await runTasks(
    ctx,
    deleteTasks({
      ...environment,
      eksctlTimeoutMs: parseDurationMs(resolved.config.timeouts.eksctl),
      eksctlTimeoutText: resolved.config.timeouts.eksctl,
      awsTimeoutMs: 10 * 60_000,
      pollIntervalMs: 10_000,
      serviceTimeoutMs: 10 * 60_000,
      signal: ctx.io.signal,
    }),
    context,
  );
  let forgotten: string | undefined;
  if (deleteData && fileSystem && resolved.config.storage.efs.fileSystemId === fileSystem.id) {
    forgotten = await forgetSettings({
      cwd: ctx.io.cwd,
      configPath: ctx.globals.config,
      keys: ["storage.efs.fileSystemId"],
    });
  }
  for (const warning of context.warnings) ctx.out.warn(warning);
  await ctx.out.result(
    {
      cluster: name,
      region,
      deleted: context.done,
      keptFileSystem: deleteData ? null : (fileSystem?.id ?? null),
    },
    () =>
      [
        `Cluster ${name} deleted.`,
        ...context.done.map((d) => `  - ${d}`),
        !deleteData && fileSystem
          ? `EFS file system ${fileSystem.id} was kept with the registry's data.`
          : "",
        forgotten ? `Removed storage.efs.fileSystemId from ${forgotten}.` : "",
      ]
        .filter(Boolean)
        .join("\n"),
  );
}
