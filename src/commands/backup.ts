/**
 * `clouddrove backup now | list | snapshot | verify | restore`: archives of the registry's data in S3
 * (made by the CronJob `deploy` renders), CSI snapshots where the storage has them, and restores that
 * verify the archive before they stop anything. Flags are declared here; everything heavy is imported
 * inside the actions. Each action: resolve options -> look up -> plan -> confirm -> steps -> report.
 */
import type { Command } from "commander";
import type { Config } from "../config/schema.js";
import type { Setting } from "../config/settings.js";
import type { StepSummary } from "../core/backup/report.js";
import type { KubeObject } from "../core/render/types.js";
import type { StepRecord } from "../steps/record.js";
import type { ClusterTarget } from "./cluster-target.js";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import { addSettingOptions } from "./setting-options.js";

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
  blobDigests?: boolean;
}

const backupSettings = (s: Setting) => s.key.startsWith("backup.") || s.key === "cluster.region";

export function registerBackup(program: Command, io: AppIO, state: RunState): void {
  const backup = program
    .command("backup")
    .description("archives of the registry's data in S3, volume snapshots, and verified restores");
  const sub = (
    name: string,
    description: string,
    run: (ctx: CommandContext, flags: BackupFlags) => Promise<void>,
  ) => {
    const command = backup
      .command(name)
      .description(description)
      .option("--sandbox", "work on the simulated sandbox cluster (its Jobs are simulated: no data moves)");
    command.action(async (flags: BackupFlags, cmd: Command) => run(createContext(io, cmd, state), flags));
    return command;
  };

  const now = sub(
    "now",
    "run the backup CronJob's Job now, wait, and report key, size, duration, checksum",
    runNow,
  )
    .option("--dry-run", "show the Job that would be created (checked by the server); change nothing")
    .option("--timeout <duration>", "how long to wait for the Job", "6h");
  const list = sub(
    "list",
    "archives in the bucket (key, time, size) and VolumeSnapshots of the claim",
    runList,
  )
    .option("--claim <name>", "the claim whose snapshots to list (default: the registry's)")
    .option("--dry-run", "the same as without: listing changes nothing");
  const snapshot = sub(
    "snapshot",
    "a VolumeSnapshot of the claim, when its storage supports snapshots",
    runSnapshot,
  )
    .option("--claim <name>", "the claim to snapshot (default: the registry's)")
    .option("--snapshot-class <name>", "VolumeSnapshotClass (default: the driver's default class)")
    .option("--dry-run", "check and show the VolumeSnapshot; change nothing")
    .option("--timeout <duration>", "how long to wait for readyToUse", "30m");
  const verify = sub(
    "verify",
    "download an archive (streamed) and check its checksum and registry layout",
    runVerify,
  )
    .option("--from <key>", "archive key, file name, or latest", "latest")
    .option(
      "--no-blob-digests",
      "skip hashing every blob (the archive checksum and layout are still checked)",
    )
    .option("--dry-run", "name the archive that would be checked; read nothing");
  const restore = sub(
    "restore",
    "verify an archive, stop the registry, restore it, start it, check health",
    runRestore,
  )
    .option("--from <key>", "archive key, file name, or latest (required)")
    .option("--to-claim <name>", "restore into this claim instead; the live registry keeps running")
    .option("--storage-class <name>", "with --to-claim: create the claim with this StorageClass when missing")
    .option(
      "--confirm <namespace>",
      "the registry's namespace, confirming a restore over live data without a prompt",
    )
    .option(
      "--remove-old",
      "delete the replaced data after the swap instead of keeping docker.pre-restore-<time>",
    )
    .option("--dry-run", "show the plan and the restore Job; change nothing")
    .option("--timeout <duration>", "how long to wait for each step", "6h");
  for (const command of [now, list, snapshot, verify, restore]) addSettingOptions(command, backupSettings);
}

async function resolveSettings(ctx: CommandContext, flags: BackupFlags): Promise<Config> {
  const { resolveFromContext } = await import("../config/options.js");
  return (await resolveFromContext(ctx, flags)).config;
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

async function withCluster<T>(
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

const summaries = (steps: StepRecord[]): StepSummary[] =>
  steps.map(({ title, status }) => ({ title, status }));

/** Runs the steps; under -o json a failure still prints its one document (built by `report`) first. */
async function runSteps<C extends object>(
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
async function runName(base: string): Promise<string> {
  const { randomBytes } = await import("node:crypto");
  const { timestampedName } = await import("../core/backup/job-log.js");
  return timestampedName(base, new Date(), randomBytes(2).toString("hex"));
}

async function yamlOf(object: unknown): Promise<string> {
  const { stringify } = await import("yaml");
  return stringify(object);
}

/** The bucket the Job writes to: the CronJob's own BACKUP_BUCKET, which is the truth in the cluster. */
function bucketOfJob(job: KubeObject): string | undefined {
  const spec = job.spec as {
    template?: { spec?: { containers?: Array<{ env?: Array<{ name: string; value?: string }> }> } };
  };
  return spec.template?.spec?.containers?.[0]?.env?.find((e) => e.name === "BACKUP_BUCKET")?.value;
}

async function runNow(ctx: CommandContext, flags: BackupFlags): Promise<void> {
  const { UsageError } = await import("../errors.js");
  const { backupNames, jobFromCronJob } = await import("../core/backup/render.js");
  const { nowReportText } = await import("../core/backup/report.js");
  const { backupNowTasks } = await import("../steps/backup/now.js");
  const { createJob, jobSeconds } = await import("../steps/backup/job.js");
  type NowReport = import("../core/backup/report.js").NowReport;
  type BackupNowContext = import("../steps/backup/now.js").BackupNowContext;

  const config = await resolveSettings(ctx, flags);
  const timeout = await timeoutMs(flags);
  const ns = config.namespace;
  await withCluster(ctx, flags, async (target) => {
    const cronJob = await target.kube.get("batch/v1", "CronJob", backupNames.cronJob, ns);
    if (!cronJob) {
      throw new UsageError(
        `There is no backup CronJob ${backupNames.cronJob} in namespace ${ns} (${target.label})`,
        {
          hint: "Set backup.bucket (--backup-bucket) and run clouddrove deploy: it creates the CronJob.",
        },
      );
    }
    const job = jobFromCronJob(cronJob as never, await runName(`${backupNames.cronJob}-now`));
    const bucket = bucketOfJob(job) ?? config.backup.bucket;
    const steps: StepRecord[] = [];
    const context: BackupNowContext = {
      kube: target.kube,
      namespace: ns,
      job,
      timeoutMs: timeout,
      signal: ctx.io.signal,
      warnings: [],
    };
    const report = (ok: boolean, dryRun = false, failure: string[] | null = null): NowReport => ({
      ok,
      dryRun,
      target: target.label,
      namespace: ns,
      cronJob: backupNames.cronJob,
      job: job.metadata.name,
      simulated: context.outcome?.simulated ?? false,
      archive: context.result ?? null,
      location: context.result && bucket ? `s3://${bucket}/${context.result.key}` : null,
      jobSeconds: context.outcome ? jobSeconds(context.outcome) : null,
      failure,
      warnings: context.warnings,
      steps: summaries(steps),
    });
    if (flags.dryRun) {
      // The server checks the Job as it would create it (dryRun=All); nothing is stored.
      await createJob(target.kube, job, true);
      const doc = { ...report(true, true), manifest: job };
      const yaml = await yamlOf(job);
      await ctx.out.result(doc, () => `${nowReportText(doc)}\n---\n${yaml}`);
      return;
    }
    await runSteps(ctx, backupNowTasks(), context, steps, async (error) => {
      const details = (error as { details?: string[] }).details ?? [];
      if (ctx.out.format === "json") await ctx.out.result(report(false, false, details), () => "");
      return error;
    });
    for (const warning of context.warnings) ctx.out.warn(warning);
    const done = report(true);
    await ctx.out.result(done, () => nowReportText(done));
  });
}

/** The VolumeSnapshots in the namespace; the API may be missing (no snapshot-controller installed). */
async function listSnapshots(target: ClusterTarget, namespace: string): Promise<unknown[] | "no-api"> {
  try {
    return await target.kube.list("snapshot.storage.k8s.io/v1", "VolumeSnapshot", { namespace });
  } catch (error) {
    const code = (error as { cause?: { code?: number } }).cause?.code;
    if (code === 404 || /no.*resource|not found/i.test(String((error as Error).message))) return "no-api";
    throw error;
  }
}

async function runList(ctx: CommandContext, flags: BackupFlags): Promise<void> {
  const { backupBucketTarget, openBackupBucket } = await import("../adapters/s3.js");
  const { backupNames } = await import("../core/backup/render.js");
  const { snapshotsOfClaim } = await import("../core/backup/snapshot.js");
  const { listReportText } = await import("../core/backup/report.js");
  const { ClouddroveError, ExitCode } = await import("../errors.js");
  type ListReport = import("../core/backup/report.js").ListReport;

  const config = await resolveSettings(ctx, flags);
  const claim = flags.claim ?? backupNames.claim;
  const report: ListReport = {
    bucket: null,
    prefix: null,
    archives: null,
    claim,
    snapshots: null,
    notes: [],
  };
  if (config.backup.bucket) {
    const bucket = await openBackupBucket(backupBucketTarget(config, ctx.io.env));
    try {
      report.bucket = bucket.target.bucket;
      report.prefix = bucket.target.prefix;
      report.archives = (await bucket.listArchives()).map((a) => ({ ...a, time: a.time.toISOString() }));
    } finally {
      bucket.close();
    }
  } else {
    report.notes.push("no backup bucket is configured (--backup-bucket), so no archives are listed");
  }
  try {
    await withCluster(ctx, flags, async (target) => {
      const snapshots = await listSnapshots(target, config.namespace);
      if (snapshots === "no-api") {
        report.snapshots = [];
        report.notes.push(
          `${target.label} has no VolumeSnapshot API (the snapshot-controller is not installed)`,
        );
      } else report.snapshots = snapshotsOfClaim(snapshots as never[], claim);
    });
  } catch (error) {
    // The archives are what survives the loss of the cluster: list them even when it cannot be reached.
    if (!(error instanceof ClouddroveError && error.exitCode === ExitCode.credentials) || !report.archives)
      throw error;
    report.notes.push(`VolumeSnapshots are not listed: ${error.message}`);
  }
  await ctx.out.result(report, () => listReportText(report));
}

async function runSnapshot(ctx: CommandContext, flags: BackupFlags): Promise<void> {
  const { UsageError } = await import("../errors.js");
  const { backupNames } = await import("../core/backup/render.js");
  const { snapshotSupport, volumeSnapshotObject } = await import("../core/backup/snapshot.js");
  const { snapshotReportText } = await import("../core/backup/report.js");
  const { snapshotTasks } = await import("../steps/backup/snapshot.js");
  type SnapshotReport = import("../core/backup/report.js").SnapshotReport;
  type SnapshotContext = import("../steps/backup/snapshot.js").SnapshotContext;
  type Obj = import("../core/health/snapshot.js").Obj;

  const config = await resolveSettings(ctx, flags);
  const timeout = await timeoutMs({ ...flags, timeout: flags.timeout ?? "30m" });
  const ns = config.namespace;
  const claimName = flags.claim ?? backupNames.claim;
  await withCluster(ctx, flags, async (target) => {
    const claim = (await target.kube.get("v1", "PersistentVolumeClaim", claimName, ns)) as Obj | undefined;
    if (!claim) {
      throw new UsageError(`There is no claim ${claimName} in namespace ${ns} (${target.label})`, {
        hint: "Deploy the registry first (clouddrove deploy), or name another claim with --claim.",
      });
    }
    const volumeName: string | undefined = claim.spec?.volumeName;
    const volume = volumeName
      ? ((await target.kube.get("v1", "PersistentVolume", volumeName)) as Obj | undefined)
      : undefined;
    const classes = await target.kube
      .list("snapshot.storage.k8s.io/v1", "VolumeSnapshotClass")
      .catch(() => [] as unknown[]);
    const support = snapshotSupport({
      claim,
      volume,
      classes: classes as Obj[],
      requestedClass: flags.snapshotClass,
      archiveLocation: config.backup.bucket
        ? `s3://${config.backup.bucket}/${config.backup.prefix}`
        : undefined,
    });
    const snapshot = volumeSnapshotObject(
      ns,
      claimName,
      support.supported ? support.snapshotClass : "",
      await runName(claimName),
    );
    const steps: StepRecord[] = [];
    const context: SnapshotContext = {
      kube: target.kube,
      namespace: ns,
      claim: claimName,
      snapshot,
      timeoutMs: timeout,
      signal: ctx.io.signal,
    };
    const report = (ok: boolean, dryRun = false): SnapshotReport => ({
      ok,
      dryRun,
      target: target.label,
      namespace: ns,
      claim: claimName,
      supported: support.supported,
      driver: support.driver,
      volume: support.volume,
      snapshotClass: support.supported ? support.snapshotClass : null,
      snapshot: context.result ?? null,
      reason: support.supported ? null : support.reason,
      alternatives: support.supported ? [] : support.alternatives,
      steps: summaries(steps),
    });
    if (!support.supported) {
      // Exit 2: the storage cannot do this, whatever is retried; nothing was created.
      if (ctx.out.format === "json") await ctx.out.result(report(false), () => "");
      throw new UsageError(
        `Claim ${claimName} cannot be snapshotted: ${support.reason}. Nothing was created.`,
        {
          details: support.alternatives.map((a) => `instead: ${a}`),
          hint: support.alternatives[0] ? `Use ${support.alternatives[0].split(":")[0]}.` : undefined,
        },
      );
    }
    if (flags.dryRun) {
      await target.kube.apply(snapshot, { dryRun: true });
      const doc = { ...report(true, true), manifest: snapshot };
      const yaml = await yamlOf(snapshot);
      await ctx.out.result(doc, () => `${snapshotReportText(doc)}\n---\n${yaml}`);
      return;
    }
    await runSteps(ctx, snapshotTasks(), context, steps, async (error) => {
      if (ctx.out.format === "json") await ctx.out.result(report(false), () => "");
      return error;
    });
    const done = report(true);
    await ctx.out.result(done, () => snapshotReportText(done));
  });
}

async function runVerify(ctx: CommandContext, flags: BackupFlags): Promise<void> {
  const { backupBucketTarget, openBackupBucket } = await import("../adapters/s3.js");
  const { OperationError } = await import("../errors.js");
  const { verifyReportText } = await import("../core/backup/report.js");
  const { verifyArchiveTask } = await import("../steps/backup/verify.js");
  type VerifyReport = import("../core/backup/report.js").VerifyReport;
  type VerifyContext = import("../steps/backup/verify.js").VerifyContext;

  const config = await resolveSettings(ctx, flags);
  const bucket = await openBackupBucket(backupBucketTarget(config, ctx.io.env));
  try {
    const archive = await bucket.resolveArchive(flags.from ?? "latest");
    const context: VerifyContext = { bucket, archive, checkBlobDigests: flags.blobDigests !== false };
    const report = (dryRun: boolean): VerifyReport => {
      const r = context.report;
      return {
        ok: dryRun || r?.ok === true,
        dryRun,
        bucket: bucket.target.bucket,
        key: archive.key,
        bytes: r?.bytes ?? archive.bytes,
        expectedSha256: context.expectedSha256 ?? null,
        sha256: r?.sha256 ?? null,
        checksumOk: r?.checksumOk ?? null,
        repositories: r?.repositories ?? [],
        tags: r?.tags ?? 0,
        manifests: r?.manifests ?? 0,
        blobs: r?.blobs ?? 0,
        blobsChecked: r?.blobsChecked ?? 0,
        problems: r?.problems ?? [],
        warnings: r?.warnings ?? [],
      };
    };
    if (flags.dryRun) {
      const doc = report(true);
      await ctx.out.result(doc, () => verifyReportText(doc));
      return;
    }
    await runSteps(ctx, [verifyArchiveTask<VerifyContext>({ refuse: false })], context, [], async (e) => e);
    const done = report(false);
    await ctx.out.result(done, () => verifyReportText(done));
    if (!done.ok) {
      throw new OperationError(
        `${archive.key} does not verify (${done.problems.length} problem(s)); do not restore it`,
        {
          hint: "Choose another archive (clouddrove backup list) and verify it: clouddrove backup verify --from KEY.",
        },
      );
    }
  } finally {
    bucket.close();
  }
}

async function runRestore(ctx: CommandContext, flags: BackupFlags): Promise<void> {
  const { ClouddroveError, UsageError } = await import("../errors.js");
  const { backupBucketTarget, openBackupBucket } = await import("../adapters/s3.js");
  const { backupNames, renderRestoreJob } = await import("../core/backup/render.js");
  const plan = await import("../core/backup/restore-plan.js");
  const { restoreReportText } = await import("../core/backup/report.js");
  const { effectivePhase, restoreTasks } = await import("../steps/backup/restore.js");
  const { lookUpRestore } = await import("../steps/backup/restore-lookup.js");
  type RestoreReport = import("../core/backup/report.js").RestoreReport;
  type RestoreContext = import("../steps/backup/restore.js").RestoreContext;

  if (!flags.from) {
    throw new UsageError("backup restore needs --from: the archive to restore", {
      hint: "Pass --from latest, or a key from clouddrove backup list.",
    });
  }
  const toClaim = flags.toClaim;
  if (toClaim === backupNames.claim) {
    throw new UsageError(`--to-claim ${toClaim} is the registry's own claim`, {
      hint: `Drop --to-claim to restore over the live registry (with --confirm), or name another claim.`,
    });
  }
  const config = await resolveSettings(ctx, flags);
  const timeout = await timeoutMs(flags);
  const ns = config.namespace;
  // Decided before anything is looked up: without a person to ask, only --confirm NAMESPACE restores over live data.
  if (!flags.dryRun && !toClaim && !ctx.interactive) plan.checkConfirmation(ns, flags.confirm);

  const bucket = await openBackupBucket(backupBucketTarget(config, ctx.io.env));
  try {
    const archive = await bucket.resolveArchive(flags.from);
    if (!archive.complete) {
      throw new UsageError(
        `The archive ${archive.key} has no checksum file: the run that wrote it did not finish`,
        {
          hint: "Choose a complete archive (clouddrove backup list), e.g. --from latest.",
        },
      );
    }
    await withCluster(ctx, flags, async (target) => {
      const found = await lookUpRestore(target.kube, ns, {
        configuredReplicas: config.registry.replicas,
        toClaim,
        clusterLabel: target.label,
      });
      let newClaim: KubeObject | undefined;
      if (toClaim && !found.targetClaim) {
        if (!flags.storageClass) {
          throw new UsageError(`There is no claim ${toClaim} in namespace ${ns}`, {
            hint: `Create it first, or pass --storage-class CLASS to have clouddrove create it (ReadWriteMany, ${config.storage.size}).`,
          });
        }
        const size = found.liveClaim?.spec?.resources?.requests?.storage ?? config.storage.size;
        newClaim = plan.restoreClaimObject(ns, toClaim, flags.storageClass, size) as KubeObject;
      }
      const restoreTarget = {
        namespace: ns,
        key: archive.key,
        toClaim,
        replicas: toClaim || !found.deployment ? 0 : found.replicas,
        jobName: await runName(backupNames.restoreJob),
      };
      const job = await renderRestoreJob(config, archive.key, {
        name: restoreTarget.jobName,
        claimName: toClaim,
        removeOld: Boolean(flags.removeOld),
      });
      const steps: StepRecord[] = [];
      const context: RestoreContext = {
        kube: target.kube,
        namespace: ns,
        bucket,
        archive,
        checkBlobDigests: true,
        target: restoreTarget,
        job,
        newClaim,
        deploymentExists: found.deployment !== undefined,
        timeoutMs: timeout,
        signal: ctx.io.signal,
        phase: "verify",
        done: new Set(),
        warnings: [],
      };
      const lines = plan.restorePlan(restoreTarget);
      const report = (
        ok: boolean,
        dryRun: boolean,
        stop?: import("../core/backup/restore-plan.js").RestoreStopReport,
      ): RestoreReport => ({
        ok,
        dryRun,
        target: target.label,
        namespace: ns,
        key: archive.key,
        toClaim: toClaim ?? null,
        claim: toClaim ?? backupNames.claim,
        job: restoreTarget.jobName,
        replicas: restoreTarget.replicas,
        plan: lines,
        verified: context.report?.ok
          ? {
              sha256: context.report.sha256,
              repositories: context.report.repositories.length,
              tags: context.report.tags,
              manifests: context.report.manifests,
              blobs: context.report.blobs,
            }
          : null,
        restored: context.result ?? null,
        simulated: context.outcome?.simulated ?? false,
        health: context.health
          ? { healthy: context.health.healthy, problems: context.health.problems }
          : null,
        stoppedIn: stop ? effectivePhase(context) : null,
        state: stop?.state ?? null,
        finish: stop?.finish ?? [],
        warnings: context.warnings,
        steps: summaries(steps),
      });
      if (flags.dryRun) {
        if (newClaim) await target.kube.apply(newClaim, { dryRun: true });
        const doc = { ...report(true, true), manifests: [...(newClaim ? [newClaim] : []), job] };
        const yaml = await yamlOf(job);
        await ctx.out.result(doc, () => `${restoreReportText(doc)}\n---\n${yaml}`);
        return;
      }
      if (!toClaim && flags.confirm !== plan.confirmationWord(ns)) {
        // Only reached at a terminal (without one, checkConfirmation has refused already).
        ctx.out.info(lines.join("\n"));
        const word = plan.confirmationWord(ns);
        await ctx.prompter.input({
          message: plan.confirmationQuestion(restoreTarget),
          validate: (v) =>
            v.trim() === word
              ? undefined
              : `Type ${word} exactly, or press Ctrl-C to leave the registry as it is.`,
        });
      }
      await runSteps(ctx, restoreTasks(), context, steps, async (error) => {
        const stop = plan.restoreStoppedIn(effectivePhase(context), restoreTarget);
        if (ctx.out.format === "json") await ctx.out.result(report(false, false, stop), () => "");
        const base = error instanceof ClouddroveError ? error : undefined;
        return new ClouddroveError(
          base?.message ?? String((error as Error)?.message ?? error),
          base?.exitCode ?? 1,
          {
            cause: error,
            details: [
              ...(base?.details ?? []),
              `State: ${stop.state}`,
              ...stop.finish.map((command, i) => `${i === 0 ? "To finish: " : "           "}${command}`),
            ],
            hint: base?.hint ?? (stop.finish[0] ? `Run: ${stop.finish[0]}` : undefined),
          },
        );
      });
      for (const warning of context.warnings) ctx.out.warn(warning);
      const done = report(true, false);
      await ctx.out.result(done, () => restoreReportText(done));
    });
  } finally {
    bucket.close();
  }
}
