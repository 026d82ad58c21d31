/**
 * `clouddrove cluster create`: on EKS through eksctl (preflight -> plan -> confirm -> eksctl, EFS, record,
 * storage classes, verify), or with --sandbox the simulated cluster; both end in the same report.
 */
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
  const connect = kubeConnection(ctx);
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
        recordTask((settings) =>
          recordSettings({ cwd: ctx.io.cwd, configPath: ctx.globals.config, settings }),
        ),
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
  const { defaultStateDir } = await import("@clouddrove/sandbox");
  const { loadState } = await import("@clouddrove/sandbox");
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
