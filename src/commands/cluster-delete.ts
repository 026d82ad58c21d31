/**
 * `clouddrove cluster delete`: a typed confirmation of the cluster's name (and a second one of the EFS file
 * system with --delete-data), then eksctl and the AWS leftovers; the EFS data is kept by default.
 */
import type { DeleteContext } from "../steps/cluster/delete.js";
import { clusterSettings, type Flags } from "./cluster-settings.js";
import { kubeConnection } from "./cluster-target.js";
import type { CommandContext } from "./context.js";

export async function clusterDelete(ctx: CommandContext, flags: Flags): Promise<void> {
  const { UsageError } = await import("../errors.js");
  const { parseDurationMs } = await import("../core/validators.js");
  const { deletePlan, eksctlCommandLine } = await import("../core/cluster/plan.js");
  const { deleteTasks, discoverDeleteTargets, eksctlDeleteArgs } = await import("../steps/cluster/delete.js");
  const { forgetSettings } = await import("../config/record.js");
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
  const found = await discoverDeleteTargets({
    clients,
    name,
    region,
    connect: kubeConnection(ctx),
    eksctl: dryRun ? undefined : environment,
  });
  const { cluster, fileSystem, mountTargets, securityGroupId, kube, loadBalancers } = found;
  const { keptBackupLines } = await import("../core/backup/provision.js");
  const keptBackup = keptBackupLines(resolved.config.backup.bucket, resolved.config.backup.roleArn);
  const plan = deletePlan({
    keptBackup,
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
      keptBackupBucket: resolved.config.backup.bucket ?? null,
    },
    () =>
      [
        `Cluster ${name} deleted.`,
        ...context.done.map((d) => `  - ${d}`),
        !deleteData && fileSystem
          ? `EFS file system ${fileSystem.id} was kept with the registry's data.`
          : "",
        forgotten ? `Removed storage.efs.fileSystemId from ${forgotten}.` : "",
        ...keptBackup.map((line) => `${line.replace(/^keep /, "Kept ")}.`),
      ]
        .filter(Boolean)
        .join("\n"),
  );
}
