/**
 * `clouddrove backup restore`: look up the registry, its claim and the objects the restore Job needs;
 * show the plan; confirm (typed namespace, or --confirm in CI) unless it restores into another claim;
 * then verify, stop writes, restore, start, check health (steps/backup/restore.ts). A failure at any
 * point says what state the registry is in and the commands that finish the job.
 */
import type { KubeObject } from "../core/render/types.js";
import type { StepRecord } from "../steps/record.js";
import {
  type BackupFlags,
  backupSettings,
  printDryRun,
  printFailureDocument,
  runName,
  runSteps,
  summaries,
  withCluster,
} from "./backup-shared.js";
import type { CommandContext } from "./context.js";

export async function runRestore(ctx: CommandContext, flags: BackupFlags): Promise<void> {
  const { ClouddroveError, UsageError } = await import("../errors.js");
  const { openBackupBucket } = await import("../adapters/connect.js");
  const { backupBucketTarget } = await import("../core/backup/bucket-target.js");
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
  const { config, namespace: ns, timeoutMs: timeout } = await backupSettings(ctx, flags);
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
        reach: target.reach,
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
        // Every blob hashed before anything stops: a blob corrupted in the bucket refuses the restore
        // while the registry still runs (restore.sh hashes them again as they land).
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
        const manifests = [...(newClaim ? [newClaim] : []), job];
        await printDryRun(ctx, { ...report(true, true), manifests }, restoreReportText, job);
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
      const { withRegistryLock } = await import("./registry-lock.js");
      // Taken after the confirmation: a prompt never holds the lock.
      await withRegistryLock(ctx, target.kube, config, `backup restore --from ${archive.key}`, () =>
        runSteps(ctx, restoreTasks(), context, steps, async (error) => {
          const stop = plan.restoreStoppedIn(effectivePhase(context), restoreTarget);
          await printFailureDocument(ctx, report(false, false, stop));
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
        }),
      );
      for (const warning of context.warnings) ctx.out.warn(warning);
      const done = report(true, false);
      await ctx.out.result(done, () => restoreReportText(done));
    });
  } finally {
    bucket.close();
  }
}
