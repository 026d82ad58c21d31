/**
 * `clouddrove gc [--dry-run]`: registry garbage collection with the registry serving pulls throughout.
 * Every replica is switched to read-only (rolled one at a time), proven read-only, `registry
 * garbage-collect` runs in a Job on the volume, and the replicas are switched back and health-checked,
 * all inside the registry's lock. An interrupted run leaves the registry read-only and says so (status
 * warns); running gc again completes it, and a deploy restores writes as well.
 */
import type { Command } from "commander";
import type { BackupFlags } from "./backup-shared.js";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import { addCommandSettings } from "./setting-options.js";

export function registerGc(program: Command, io: AppIO, state: RunState): void {
  const gc = program
    .command("gc")
    .description(
      "garbage collection: read-only replicas, `registry garbage-collect` in a Job, writable again; reports what was freed",
    )
    .option("--dry-run", "report what would be freed; the registry stays writable and nothing is deleted")
    .option("--job-timeout <duration>", "how long the garbage-collect Job may take", "6h")
    .option("--sandbox", "collect the sandbox's registry (its Job runs the real registry binary)");
  addCommandSettings(gc, "gc").action(async (flags: BackupFlags, command: Command) => {
    await runGc(createContext(io, command, state), flags);
  });
}

async function runGc(ctx: CommandContext, flags: BackupFlags): Promise<void> {
  const { resolveSettings, runName, runSteps, summaries, withCluster } = await import("./backup-shared.js");
  const { duration, parseDurationMs } = await import("../core/validators.js");
  const { gcOutcome } = await import("../core/gc/job-log.js");
  const { gcNames, renderGcJob } = await import("../core/gc/render.js");
  const { gcReportText } = await import("../core/gc/report.js");
  const { GC_REASON } = await import("../core/gc/read-only.js");
  const { lookUpGc } = await import("../steps/gc/look-up.js");
  const { gcTasks, recoveryTasks, runningGcJobs } = await import("../steps/gc/index.js");
  const { ClouddroveError, InterruptedError, OperationError } = await import("../errors.js");
  const { withRegistryLock } = await import("./registry-lock.js");
  const { confirmAction } = await import("./confirm.js");
  type GcContext = import("../steps/gc/index.js").GcContext;
  type GcReport = import("../core/gc/report.js").GcReport;
  type StepRecord = import("../steps/record.js").StepRecord;

  const config = await resolveSettings(ctx, flags);
  // --timeout is timeouts.deploy (each rollout); the Job has its own deadline.
  const jobTimeoutText = (flags.jobTimeout as string | undefined) ?? "6h";
  if (duration(jobTimeoutText)) {
    const { UsageError } = await import("../errors.js");
    throw new UsageError(`--job-timeout ${jobTimeoutText} is not a duration`, {
      hint: "Use e.g. 30m or 6h.",
    });
  }
  const jobTimeout = parseDurationMs(jobTimeoutText);
  const dryRun = flags.dryRun === true;
  const ns = config.namespace;
  await withCluster(ctx, flags, async (target) => {
    const first = await lookUpGc(target.kube, ns, !dryRun);
    const effects = [
      `roll the ${first.replicas} replicas of ${ns} one at a time to read-only (pulls keep working, pushes are refused with 405)`,
      `run \`registry garbage-collect --delete-untagged=${first.flags.deleteUntagged}\` in a Job on the registry's volume with ${first.image}: unreferenced blobs are deleted for good`,
      "roll the replicas back to writable and check the registry's health",
    ];
    if (
      !dryRun &&
      !(await confirmAction(ctx, {
        action: `Garbage collection of the registry in ${ns} (${target.label})`,
        effects,
      }))
    )
      return;

    const steps: StepRecord[] = [];
    let context: GcContext | undefined;
    let resumed = false;
    // What the run found under the lock (the look-up before it only serves the question).
    let current = first;
    const report = (ok: boolean, failure: string[] | null = null): GcReport => {
      const outcome = context?.log ? gcOutcome(context.log) : undefined;
      return {
        ok,
        dryRun,
        target: target.label,
        namespace: ns,
        image: current.image || null,
        job: context?.job?.metadata?.name ?? null,
        deleteUntagged: current.flags.deleteUntagged,
        freed: outcome ? { blobs: outcome.blobs, manifests: outcome.manifests, bytes: outcome.bytes } : null,
        remaining: outcome?.remaining ?? null,
        minimumReady: context?.minimumReady ?? null,
        readOnly: context?.proofs ?? [],
        resumed,
        healthy: context?.healthy ?? null,
        failure,
        warnings: context?.warnings ?? [],
        steps: summaries(steps),
      };
    };

    await withRegistryLock(ctx, target.kube, config, dryRun ? "gc --dry-run" : "gc", async () => {
      // Read again under the lock: what was seen before it may have changed while waiting for it.
      const live = await lookUpGc(target.kube, ns, !dryRun);
      current = live;
      resumed = !dryRun && live.readOnly?.reason === GC_REASON;
      const job = await renderGcJob({
        namespace: ns,
        name: await runName(gcNames.job),
        deployment: live.deployment,
        dryRun,
        deleteUntagged: live.flags.deleteUntagged,
      });
      context = {
        kube: target.kube,
        namespace: ns,
        dryRun,
        deleteUntagged: live.flags.deleteUntagged,
        replicas: live.replicas,
        rolloutTimeoutMs: parseDurationMs(config.timeouts.deploy),
        jobTimeoutMs: jobTimeout,
        signal: ctx.io.signal,
        configMap: live.configMap,
        deployment: live.deployment,
        job,
        readOnly: false,
        minimumReady: null,
        proofs: [],
        healthy: null,
        warnings: [],
      };
      const run = context;
      if (dryRun && live.readOnly) {
        run.warnings.push(
          live.readOnly.reason === GC_REASON
            ? "the registry is read-only from an interrupted garbage collection; run clouddrove gc (without --dry-run) to finish it"
            : "the registry is read-only (storage.maintenance.readonly); clouddrove deploy makes it writable",
        );
      }
      if (resumed)
        run.warnings.push(
          "the registry was read-only from an interrupted garbage collection: this run completes it",
        );
      await runSteps(ctx, gcTasks(), run, steps, async (error) => {
        const interrupted = error instanceof InterruptedError || ctx.io.signal?.aborted === true;
        const said: string[] = [];
        if (run.readOnly && !interrupted) {
          // A failure after the switch: writes come back unless a garbage-collect Job still runs (it
          // must finish on a read-only store).
          const running = await runningGcJobs(run).catch(() => ["(unknown: the Jobs could not be listed)"]);
          if (running.length === 0) {
            try {
              await runSteps(ctx, recoveryTasks(), run, steps, async (e) => e);
            } catch (recovery) {
              said.push(`switching back to writable failed too: ${(recovery as Error).message}`);
            }
          } else {
            said.push(`the registry stays read-only while Job ${running.join(", ")} runs`);
          }
        }
        if (run.readOnly) {
          said.push(
            "the registry is still READ-ONLY: run clouddrove gc again to finish (or clouddrove deploy to restore writes)",
          );
        }
        const failure =
          error instanceof ClouddroveError
            ? error
            : new OperationError((error as Error).message, { cause: error });
        failure.details.push(...said);
        if (ctx.out.format === "json") await ctx.out.result(report(false, failure.details), () => "");
        return failure;
      });
    });
    for (const warning of context?.warnings ?? []) ctx.out.warn(warning);
    const done = report(true);
    await ctx.out.result(done, () => gcReportText(done));
  });
}
