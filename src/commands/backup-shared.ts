/**
 * What the `backup` subcommands share (backup.ts declares them; backup-restore.ts is loaded only for
 * `backup restore`): their flags, resolving the settings, the --timeout, the cluster connection, running
 * the steps, and fresh names for the Jobs they start.
 */
import type { Config } from "../config/schema.js";
import type { StepSummary } from "../core/backup/report.js";
import type { StepRecord } from "../steps/record.js";
import type { ClusterTarget } from "./cluster-target.js";
import type { CommandContext } from "./context.js";

export interface BackupFlags extends Record<string, unknown> {
  dryRun?: boolean;
  sandbox?: boolean;
  timeout?: string;
  from?: string;
  claim?: string;
  snapshotClass?: string;
  toClaim?: string;
  storageClass?: string;
  confirm?: string;
  removeOld?: boolean;
  deep?: boolean;
}

export async function resolveSettings(ctx: CommandContext, flags: BackupFlags): Promise<Config> {
  const { resolveFromContext } = await import("../config/options.js");
  if (!flags.sandbox) return (await resolveFromContext(ctx, flags)).config;
  // With --sandbox, the bucket is the sandbox's S3 (its environment comes before the settings are read),
  // and the sandbox's cluster name and region rank like flags, as for deploy.
  const { runningSandbox, sandboxSettings, withTargetSettings } = await import("./cluster-target.js");
  const running = await runningSandbox(ctx);
  return (await resolveFromContext(ctx, withTargetSettings(sandboxSettings(running), flags))).config;
}

/** What every subcommand that runs something in the cluster starts with: settings, namespace, --timeout. */
export async function backupSettings(
  ctx: CommandContext,
  flags: BackupFlags,
): Promise<{ config: Config; namespace: string; timeoutMs: number }> {
  const config = await resolveSettings(ctx, flags);
  return { config, namespace: config.namespace, timeoutMs: await timeoutMs(flags) };
}

async function timeoutMs(flags: BackupFlags): Promise<number> {
  const { UsageError } = await import("../errors.js");
  const { duration, parseDurationMs } = await import("../core/validators.js");
  const value = flags.timeout ?? "6h";
  if (duration(value)) {
    throw new UsageError(`--timeout ${value} is not a duration`, { hint: "Use e.g. 90s, 30m or 6h." });
  }
  return parseDurationMs(value);
}

export async function withCluster<T>(
  ctx: CommandContext,
  flags: BackupFlags,
  run: (target: ClusterTarget) => Promise<T>,
): Promise<T> {
  const { openClusterTarget } = await import("./cluster-target.js");
  const target = await openClusterTarget(ctx, { sandbox: flags.sandbox });
  try {
    return await run(target);
  } finally {
    await target.close();
  }
}

export const summaries = (steps: StepRecord[]): StepSummary[] =>
  steps.map(({ title, status }) => ({ title, status }));

/** Runs the steps; under -o json a failure still prints its one document (built by `report`) first. */
export async function runSteps<C extends object>(
  ctx: CommandContext,
  tasks: import("listr2").ListrTask<C>[],
  context: C,
  steps: StepRecord[],
  onFailure: (error: unknown) => Promise<unknown>,
): Promise<void> {
  const { runTasks } = await import("../io/renderer.js");
  const { recorded } = await import("../steps/record.js");
  try {
    await runTasks(ctx, recorded(tasks, steps), context);
  } catch (error) {
    throw await onFailure(error);
  }
}

/** A fresh name per run: the time it started, and 4 random hex digits. */
export async function runName(base: string): Promise<string> {
  const { randomBytes } = await import("node:crypto");
  const { timestampedName } = await import("../core/backup/job-log.js");
  return timestampedName(base, new Date(), randomBytes(2).toString("hex"));
}

/** A --dry-run's result: the report (with what would be created) as JSON, or its text then `manifest`'s YAML. */
export async function printDryRun<D extends object>(
  ctx: CommandContext,
  doc: D,
  text: (doc: D) => string,
  manifest: unknown,
): Promise<void> {
  const { toYaml } = await import("../core/yaml/emit.js");
  const yaml = toYaml(manifest);
  await ctx.out.result(doc, () => `${text(doc)}\n---\n${yaml}`);
}

/** Under -o json a failure still prints its one document; as text the error says it all. */
export async function printFailureDocument(ctx: CommandContext, doc: object): Promise<void> {
  if (ctx.out.format === "json") await ctx.out.result(doc, () => "");
}
