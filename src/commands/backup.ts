/**
 * `clouddrove backup now | list | snapshot | verify | restore`: archives of the registry's data in S3
 * (made by the CronJob `deploy` renders), CSI snapshots where the storage has them, and restores that
 * verify the archive before they stop anything. Flags are declared here; everything heavy is imported
 * inside the actions. Each action: resolve options -> look up -> plan -> confirm -> steps -> report.
 */
import type { Command } from "commander";
import { Kinds, named } from "../adapters/connect.js";
import type { KubeObject } from "../core/render/types.js";
import type { StepRecord } from "../steps/record.js";
import {
  type BackupFlags,
  backupSettings,
  printDryRun,
  printFailureDocument,
  resolveSettings,
  runName,
  runSteps,
  summaries,
  withCluster,
} from "./backup-shared.js";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import { addCommandSettings } from "./setting-options.js";

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
      .option("--sandbox", "work on the sandbox cluster (its backup Jobs run for real against its own S3)");
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
    "check a snapshot: its checksum, its registry layout, every blob it references present with its size",
    runVerify,
  )
    .option("--from <key>", "snapshot key, file name, or latest", "latest")
    .option("--deep", "also download every blob and check its sha256 against its name")
    .option("--dry-run", "name the archive that would be checked; read nothing");
  const restore = sub(
    "restore",
    "verify an archive, stop the registry, restore it, start it, check health",
    async (ctx, flags) => (await import("./backup-restore.js")).runRestore(ctx, flags),
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
  for (const command of [now, list, snapshot, verify, restore]) {
    addCommandSettings(command, `backup ${command.name()}` as "backup now");
  }
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

  const { config, namespace: ns, timeoutMs: timeout } = await backupSettings(ctx, flags);
  await withCluster(ctx, flags, async (target) => {
    const cronJob = await target.kube.get(named(Kinds.CronJob, backupNames.cronJob, ns));
    if (!cronJob) {
      throw new UsageError(
        `There is no backup CronJob ${backupNames.cronJob} in namespace ${ns} (${target.label})`,
        {
          hint: "Set backup.bucket (--backup-bucket) and run clouddrove deploy: it creates the CronJob.",
        },
      );
    }
    const job = jobFromCronJob(cronJob, await runName(`${backupNames.cronJob}-now`));
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
      await printDryRun(ctx, { ...report(true, true), manifest: job }, nowReportText, job);
      return;
    }
    const { withRegistryLock } = await import("./registry-lock.js");
    await withRegistryLock(ctx, target.kube, config, "backup now", () =>
      runSteps(ctx, backupNowTasks(), context, steps, async (error) => {
        const details = (error as { details?: string[] }).details ?? [];
        await printFailureDocument(ctx, report(false, false, details));
        return error;
      }),
    );
    for (const warning of context.warnings) ctx.out.warn(warning);
    const done = report(true);
    await ctx.out.result(done, () => nowReportText(done));
  });
}

async function runList(ctx: CommandContext, flags: BackupFlags): Promise<void> {
  const { openBackupBucket } = await import("../adapters/connect.js");
  const { backupBucketTarget } = await import("../core/backup/bucket-target.js");
  const { backupNames } = await import("../core/backup/render.js");
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
      const { listClaimSnapshots } = await import("../steps/backup/snapshot.js");
      const found = await listClaimSnapshots(target.kube, config.namespace, claim);
      report.snapshots = found.snapshots;
      if (found.note) report.notes.push(`${target.label}: ${found.note}`);
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
  const { volumeSnapshotObject } = await import("../core/backup/snapshot.js");
  const { snapshotReportText } = await import("../core/backup/report.js");
  const { lookUpSnapshotSupport, snapshotTasks } = await import("../steps/backup/snapshot.js");
  type SnapshotReport = import("../core/backup/report.js").SnapshotReport;
  type SnapshotContext = import("../steps/backup/snapshot.js").SnapshotContext;

  const { config, namespace: ns, timeoutMs: timeout } = await backupSettings(ctx, flags);
  const claimName = flags.claim ?? backupNames.claim;
  await withCluster(ctx, flags, async (target) => {
    const support = await lookUpSnapshotSupport(target.kube, ns, claimName, {
      requestedClass: flags.snapshotClass,
      archiveLocation: config.backup.bucket
        ? `s3://${config.backup.bucket}/${config.backup.prefix}`
        : undefined,
      clusterLabel: target.label,
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
      await printFailureDocument(ctx, report(false));
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
      await printDryRun(ctx, { ...report(true, true), manifest: snapshot }, snapshotReportText, snapshot);
      return;
    }
    await runSteps(ctx, snapshotTasks(), context, steps, async (error) => {
      await printFailureDocument(ctx, report(false));
      return error;
    });
    const done = report(true);
    await ctx.out.result(done, () => snapshotReportText(done));
  });
}

async function runVerify(ctx: CommandContext, flags: BackupFlags): Promise<void> {
  const { openBackupBucket } = await import("../adapters/connect.js");
  const { backupBucketTarget } = await import("../core/backup/bucket-target.js");
  const { OperationError } = await import("../errors.js");
  const { verifyReportText } = await import("../core/backup/report.js");
  const { verifyArchiveTask } = await import("../steps/backup/verify.js");
  type VerifyReport = import("../core/backup/report.js").VerifyReport;
  type VerifyContext = import("../steps/backup/verify.js").VerifyContext;

  const config = await resolveSettings(ctx, flags);
  const bucket = await openBackupBucket(backupBucketTarget(config, ctx.io.env));
  try {
    const archive = await bucket.resolveArchive(flags.from ?? "latest");
    const context: VerifyContext = { bucket, archive, checkBlobDigests: flags.deep === true };
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
        snapshot: r?.snapshot ?? false,
        blobBytes: r?.blobBytes ?? 0,
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
