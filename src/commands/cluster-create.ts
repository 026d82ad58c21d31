/**
 * `clouddrove cluster create`: on EKS through eksctl (preflight -> plan -> confirm -> eksctl, EFS, record,
 * storage classes, verify), or with --sandbox the same steps after eksctl against the sandbox's cluster and
 * AWS endpoint; both end in the same report.
 */
import type { ClusterValues } from "../core/cluster/cluster-config.js";
import type { CreateWording } from "../core/cluster/report.js";
import type { KubeStepContext } from "../steps/cluster/connect.js";
import { clusterSettings, type Flags } from "./cluster-settings.js";
import { kubeConnection } from "./cluster-target.js";
import type { CommandContext } from "./context.js";

export async function clusterCreate(ctx: CommandContext, flags: Flags): Promise<void> {
  if (flags.sandbox === true) return clusterCreateSandbox(ctx, flags);
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join, resolve } = await import("node:path");
  const { parseDurationMs } = await import("../core/validators.js");
  const { renderClusterConfig } = await import("../core/cluster/cluster-config.js");
  const { createPlan, eksctlCommandLine } = await import("../core/cluster/plan.js");
  const { preflightCreate } = await import("../steps/cluster/preflight.js");
  const { readClusterTemplate } = await import("../steps/cluster/templates.js");
  const { eksctlCommands, eksctlTask } = await import("../steps/cluster/eksctl.js");
  const { efsTask } = await import("../steps/cluster/efs.js");
  const { recordSettings } = await import("../config/record.js");
  const { recordTask } = await import("../steps/cluster/record.js");
  const { storageTask } = await import("../steps/cluster/storage.js");
  const { verifyTask } = await import("../steps/cluster/facts.js");
  const { backupBucketTask, backupRoleTask } = await import("../steps/cluster/backup.js");
  const { runTasks } = await import("../io/renderer.js");

  const dryRun = flags.dryRun === true;
  const { resolved, values, clients, offered, versions } = await clusterSettings(ctx, flags, true);
  const environment = { env: ctx.io.env, cwd: ctx.io.cwd };
  const pre = await preflightCreate({
    clients,
    values,
    offered,
    versions,
    eksctl: dryRun ? undefined : environment,
  });
  const costNotice = await extendedSupportNotice(pre);
  const rendered = renderClusterConfig(readClusterTemplate(), pre.values);
  const configFile = resolve(ctx.io.cwd, ctx.globals.config ?? "clouddrove.yaml");
  const commands = eksctlCommands(
    { exists: pre.existing !== undefined, name: pre.values.name, region: pre.values.region },
    `eksctl-${pre.values.name}.yaml`,
    ctx.globals.kubeconfig,
  ).map(eksctlCommandLine);
  const backup = await backupSetup(resolved.config, pre);
  const plan = createPlan({
    values: pre.values,
    exists: pre.existing !== undefined,
    eksctlCommands: commands,
    configFile,
    account: pre.identity.account,
    backupLines: backup.lines(configFile),
  });
  if (costNotice) plan.push("", `! ${costNotice}`);

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
      message: pre.existing ? "Reconcile it?" : costNotice ? "Create it in extended support?" : "Create it?",
      // Extended support costs money every hour the cluster runs: the safe answer is no.
      default: !costNotice,
    });
    if (!go) return ctx.out.info("Nothing was created.");
  } else if (costNotice && !ctx.globals.yes) {
    const { UsageError } = await import("../errors.js");
    const { defaultVersionForNewClusters } = await import("../core/cluster/versions.js");
    const standard = pre.versions && defaultVersionForNewClusters(pre.versions);
    throw new UsageError(costNotice, {
      hint: `Choose a version in standard support${standard ? ` (--kubernetes-version ${standard}, EKS's default)` : ""}, or pass --yes to accept the cost.`,
    });
  }

  const workDir = mkdtempSync(join(tmpdir(), "clouddrove-eksctl-"));
  const connect = kubeConnection(ctx);
  const context: KubeStepContext = {
    values: pre.values,
    clusterConfig: rendered.text,
    existing: pre.existing,
    clients,
    mountTargetsCreated: [],
    warnings: [],
    done: [],
    backup: await backup.open(ctx.io.env),
  };
  try {
    await runTasks(
      ctx,
      [
        backupBucketTask(),
        eksctlTask({
          ...environment,
          timeoutMs: parseDurationMs(resolved.config.timeouts.eksctl),
          timeoutText: resolved.config.timeouts.eksctl,
          signal: ctx.io.signal,
          workDir,
          kubeconfigPath: ctx.globals.kubeconfig,
        }),
        efsTask({ timeoutMs: 10 * 60_000, pollIntervalMs: 10_000, signal: ctx.io.signal }),
        backupRoleTask(),
        recordTask((settings) =>
          recordSettings({ cwd: ctx.io.cwd, configPath: ctx.globals.config, settings }),
        ),
        storageTask(connect),
        verifyTask(connect),
      ],
      context,
    );
  } finally {
    context.backup?.clients?.close();
    rmSync(workDir, { recursive: true, force: true });
  }

  await reportCreate(ctx, context, { reconciled: pre.existing !== undefined, extra: { sandbox: false } });
}

/**
 * What is made for backups (core/backup/provision.ts decides), the lines the plan shows, and the state
 * the backup steps share, with the S3 and IAM clients opened only when something is to be made.
 */
async function backupSetup(
  config: import("../config/schema.js").Config,
  pre: { values: Pick<ClusterValues, "name" | "region">; identity: { account: string } },
) {
  const { backupSetupLines, backupSetupPlan } = await import("../core/backup/provision.js");
  const { retentionRule } = await import("../core/backup/lifecycle.js");
  const plan = backupSetupPlan(
    { ...config, cluster: { name: pre.values.name, region: pre.values.region } },
    pre.identity.account,
  );
  return {
    plan,
    lines: (configFile: string) => backupSetupLines(plan, configFile),
    open: async (env: NodeJS.ProcessEnv): Promise<KubeStepContext["backup"]> => {
      const { backupSetupClients } = await import("../adapters/connect.js");
      return {
        plan,
        lifecycleRule: retentionRule(config),
        ...(plan.make ? { clients: await backupSetupClients(plan.region, env) } : {}),
      };
    },
  };
}

/** The cost of a new cluster on a version in EKS extended support (undefined otherwise). */
async function extendedSupportNotice(pre: {
  existing?: unknown;
  versions?: import("../core/cluster/versions.js").EksVersion[];
  values: ClusterValues;
}): Promise<string | undefined> {
  if (pre.existing) return undefined;
  const info = pre.versions?.find((v) => v.version === pre.values.kubernetesVersion);
  if (info?.support !== "extended") return undefined;
  const { extendedSupportCost } = await import("../core/cluster/versions.js");
  return `Kubernetes ${info.version} is in EKS extended support: ${extendedSupportCost()}.`;
}

/** The result of `cluster create` (real or sandbox): what was done, where things are, the verify table. */
async function reportCreate(
  ctx: CommandContext,
  context: KubeStepContext,
  options: { reconciled: boolean; wording?: CreateWording; extra?: Record<string, unknown> },
): Promise<void> {
  const { createResult } = await import("../core/cluster/report.js");
  for (const warning of context.warnings) ctx.out.warn(warning);
  if (context.report && !context.report.ok) ctx.state.exitCode = 1;
  const { data, text } = createResult({ ...context, ...options }, ctx.out.paint);
  await ctx.out.result({ ...data, ...options.extra }, text);
}

/** What `cluster create --sandbox --dry-run` prints: nothing is started, so the state is not touched. */
function sandboxPlan(input: {
  values: Pick<ClusterValues, "name" | "zones">;
  existing: boolean;
  stateDir: string;
}): string[] {
  const { values } = input;
  return [
    `${input.existing ? "Reconcile" : "Create"} the simulated cluster ${values.name} (state in ${input.stateDir}):`,
    input.existing
      ? "  - keep its nodes and zones"
      : `  - one worker node in each of ${values.zones.join(", ")}, its EKS, EC2 and EFS side on the sandbox's AWS endpoint`,
    "  - the addons eksctl would install: network policy enforcement in the VPC CNI, the snapshot controller",
    "  - then as on EKS, through the AWS API (the sandbox's endpoint): the EFS file system (the sandbox's own, found by tag), its security group and a mount target in each zone",
    "  - the backup bucket and the backup job's IRSA role, on the sandbox's S3 and IAM (unless backup.setup is manual)",
    "  - apply the storage classes, verify (the config file is left alone: it describes the real cluster)",
  ];
}

/**
 * `cluster create --sandbox`. eksctl cannot run against the sandbox, and need not: the sandbox's cluster
 * already exists (started from its saved state, or seeded with the requested region and zones), and the
 * sandbox installs what eksctl's addons would. The rest is the EKS path itself, with the command's AWS
 * environment pointed at the sandbox's AWS endpoint: the same preflight (without the eksctl check), EFS
 * step, storage classes and verify. The EFS id is not written to clouddrove.yaml, which describes the
 * real cluster; `deploy --sandbox` finds the file system through EFS.
 */
async function clusterCreateSandbox(ctx: CommandContext, flags: Flags): Promise<void> {
  const { resolveFromContext } = await import("../config/options.js");
  const { loadSandboxPackage } = await import("./sandbox-package.js");
  const { runningSandbox, sandboxSettings, withTargetSettings } = await import("./cluster-target.js");
  const { preflightCreate } = await import("../steps/cluster/preflight.js");
  const { efsTask } = await import("../steps/cluster/efs.js");
  const { storageTask } = await import("../steps/cluster/storage.js");
  const { verifyTask } = await import("../steps/cluster/facts.js");
  const { backupBucketTask, backupRoleTask } = await import("../steps/cluster/backup.js");
  const { runTasks } = await import("../io/renderer.js");

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
  const { defaultStateDir, loadState } = await loadSandboxPackage();
  const stateDir = defaultStateDir(ctx.io.env);
  const existing = (await loadState(stateDir)) !== undefined;
  if (flags.dryRun === true) {
    const plan = sandboxPlan({ values, existing, stateDir });
    await ctx.out.result({ dryRun: true, sandbox: true, plan }, () =>
      [...plan, "", "Dry run: nothing was changed."].join("\n"),
    );
    return;
  }
  // A saved sandbox keeps its own name, region and zones; these shape a new one. Its cluster comes with
  // what eksctl's addons install (network policy enforcement, the snapshot controller).
  const sandbox = await runningSandbox(ctx, {
    zones: values.zones,
    nodes: values.zones.length,
    kubernetesVersion: values.kubernetesVersion,
    clusterName: values.name,
  });
  // The sandbox's own name and region win over flags: a saved sandbox keeps them.
  const settings = await clusterSettings(
    ctx,
    { ...withTargetSettings(undefined, flags), ...sandboxSettings(sandbox) },
    false,
  );
  const pre = await preflightCreate({ clients: settings.clients, values: settings.values });
  const connect = {
    kubeconfigPath: sandbox.kubeconfig,
    context: sandbox.context,
    env: ctx.io.env,
    signal: ctx.io.signal,
  };
  const context: KubeStepContext = {
    values: pre.values,
    clusterConfig: "",
    existing: pre.existing,
    clients: settings.clients,
    mountTargetsCreated: [],
    warnings: [],
    done: [],
    backup: await (await backupSetup(settings.resolved.config, pre)).open(ctx.io.env),
  };
  try {
    await runTasks(
      ctx,
      [
        backupBucketTask(),
        efsTask({ timeoutMs: 60_000, pollIntervalMs: 1000, signal: ctx.io.signal }),
        backupRoleTask(),
        storageTask(connect),
        verifyTask(connect),
      ],
      context,
    );
  } finally {
    context.backup?.clients?.close();
  }
  await reportCreate(ctx, context, {
    reconciled: existing,
    wording: {
      kind: "Simulated cluster",
      efs: `EFS file system ${context.fileSystemId}, on the sandbox's AWS endpoint (not written to the config file, which describes the real cluster).`,
      where: `The simulated cluster's state is saved in ${stateDir}; use it with --sandbox (e.g. \`clouddrove deploy --sandbox\`).`,
      next: "clouddrove deploy --sandbox",
    },
    extra: { sandbox: true, kubeContext: sandbox.context },
  });
}
