/**
 * `deploy` against a cluster: resolve the settings, reuse or create the credentials (asking, if at all,
 * before the task list starts), render, then run the steps and report.
 */

import { Kinds, named } from "../adapters/connect.js";
import { resolveForPurpose, resolveFromContext } from "../config/options.js";
import { generateSecret, htpasswdLine, passwordInputs, resolveRegistryPassword } from "../config/secrets.js";
import { backupBucketTarget } from "../core/backup/bucket-target.js";
import {
  backupDeployNotes,
  backupDeploySection,
  backupDeployText,
  type RetentionOutcome,
} from "../core/backup/deploy-notes.js";
import { renderBackupObjects } from "../core/backup/render.js";
import { isComplete } from "../core/deploy/credentials.js";
import { placeEfsVolume, registryUser } from "../core/deploy/efs-volume.js";
import { type ApplyAction, type ObjectRef, refKey } from "../core/deploy/objects.js";
import { registryDowngradeProblem } from "../core/deploy/preflight.js";
import { credentialsSecretNames, type DeployReport, deployReportText } from "../core/deploy/report.js";
import { type RegistryCredentials, renderManifests, usesPrivateCa } from "../core/render/index.js";
import { names } from "../core/render/names.js";
import { recordText } from "../core/tls/acm.js";
import { hostOf, insecureHttpWarning } from "../core/tls/plan.js";
import { certificateSummary, prepareServerTls } from "../core/tls/prepare.js";
import { registryUsage } from "../core/tls/usage.js";
import { parseDurationMs } from "../core/validators.js";
import { UsageError } from "../errors.js";
import { runTasks } from "../io/renderer.js";
import { retentionRuleStep } from "../steps/backup/retention.js";
import type { DeployContext } from "../steps/deploy/context.js";
import { readClusterCredentials } from "../steps/deploy/credentials.js";
import { clusterFileSystemId, efsPlacement } from "../steps/deploy/file-system.js";
import { deployTasks } from "../steps/deploy/index.js";
import { pullHosts, writePendingPullSecret } from "../steps/deploy/pull-secret.js";
import { readLiveTls } from "../steps/deploy/tls.js";
import { prepareServedSecret, servedCertificateSummary } from "../steps/deploy/tls-secret.js";
import { loadBalancerAddress } from "../steps/deploy/wait.js";
import { recorded, type StepRecord } from "../steps/record.js";
import { readRecordedVersion } from "../steps/upgrade/version-record.js";
import { type ClusterTarget, withTargetSettings } from "./cluster-target.js";
import type { CommandContext } from "./context.js";
import type { DeployFlags } from "./deploy-flags.js";
import type { RotationPass } from "./deploy-rotate.js";
import { withRegistryLock } from "./registry-lock.js";

/** A rotation's report: an object a pass created or configured is reported so, not as unchanged. */
function withEarlierPasses<T extends ObjectRef & { action: ApplyAction }>(
  applied: T[],
  changed: Map<string, ApplyAction>,
): T[] {
  return applied.map((object) => {
    const earlier = changed.get(refKey(object));
    return object.action === "unchanged" && earlier && earlier !== "unchanged"
      ? { ...object, action: earlier }
      : object;
  });
}

async function credentialsFor(
  ctx: CommandContext,
  flags: DeployFlags,
  target: ClusterTarget,
  config: import("../config/schema.js").Config,
): Promise<{ credentials: RegistryCredentials; source: string }> {
  const stored = await readClusterCredentials(target.kube, config.namespace);
  const username = config.registry.username;
  if (!flags.rotateCredentials && isComplete(stored) && stored.username === username) {
    if (
      ctx.io.env.CLOUDDROVE_REGISTRY_PASSWORD &&
      ctx.io.env.CLOUDDROVE_REGISTRY_PASSWORD !== stored.password
    ) {
      ctx.out.warn(
        "CLOUDDROVE_REGISTRY_PASSWORD differs from the password stored in the cluster; the stored one is kept " +
          "(pass --rotate-credentials to replace it).",
      );
    }
    return {
      credentials: {
        username,
        password: stored.password,
        htpasswd: stored.htpasswd,
        httpSecret: stored.httpSecret,
      },
      source: "cluster",
    };
  }
  const password = await resolveRegistryPassword(passwordInputs(ctx, Boolean(flags.registryPasswordStdin)));
  // http.secret is kept even when only the password is new: replicas must agree on it at every moment.
  const httpSecret = !flags.rotateCredentials && stored.httpSecret ? stored.httpSecret : generateSecret();
  return {
    credentials: {
      username,
      password: password.value,
      httpSecret,
      htpasswd: await htpasswdLine(username, password.value),
    },
    source: password.source,
  };
}

export async function executeDeploy(
  ctx: CommandContext,
  flags: DeployFlags,
  target: ClusterTarget,
  serverDryRun: boolean,
): Promise<void> {
  // The target's settings (the sandbox's cluster and region) rank like flags; a flag given still wins.
  const settings = withTargetSettings(target.settings, flags);
  // No EFS id configured: the cluster's file system, asked of EFS (a configured one still wins).
  const first = await resolveFromContext(ctx, settings);
  const found = await clusterFileSystemId(first.config, ctx.io.env, (w) => ctx.out.warn(w));
  const baseline = new Map<string, string>(found ? [["storage.efs.fileSystemId", found]] : []);
  // The version an upgrade left running ranks the same way: above the default, below anything given.
  const upgradedTo = await readRecordedVersion(target.kube, first.config.namespace);
  if (upgradedTo) baseline.set("registry.version", upgradedTo);
  const { config } = await resolveForPurpose(ctx, settings, "deploy", baseline);
  // --dry-run=server and --diff change nothing, so they take no lock.
  if (serverDryRun || flags.diff) return deployWithConfig(ctx, flags, target, config, serverDryRun);
  const command = flags.rotateCredentials ? "deploy --rotate-credentials" : "deploy";
  // A first deploy creates the namespace to take the lock in, and removes it again if it wrote nothing else.
  const run: DeployRun = { createdNamespace: false, wroteAnything: false };
  return withRegistryLock(
    ctx,
    target.kube,
    config,
    command,
    async () => {
      const { rotateOrDeploy } = await import("./deploy-rotate.js");
      await rotateOrDeploy(ctx, flags, target, config, (pass) =>
        deployWithConfig(ctx, flags, target, config, false, pass, run),
      );
    },
    {
      namespace: {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: config.namespace, labels: names.commonLabels },
      },
      created: (created) => {
        run.createdNamespace = created;
      },
      wroteAnything: () => run.wroteAnything,
    },
  );
}

/** What a deploy's passes share with the lock around them. */
interface DeployRun {
  createdNamespace: boolean;
  wroteAnything: boolean;
}

/**
 * The deploy itself, once the settings are resolved (and, unless it is a dry run, the lock is held);
 * with `pass`, one pass of a password rotation with the credentials of its phase.
 */
async function deployWithConfig(
  ctx: CommandContext,
  flags: DeployFlags,
  target: ClusterTarget,
  config: import("../config/schema.js").Config,
  serverDryRun: boolean,
  pass?: RotationPass,
  run?: DeployRun,
): Promise<void> {
  const live = await target.kube.get(named(Kinds.Deployment, names.deployment, config.namespace));
  const downgrade = registryDowngradeProblem(
    live?.spec?.template?.spec?.containers?.[0]?.image,
    config.registry.version,
  );
  if (downgrade) {
    throw new UsageError(`${downgrade} Nothing was changed.`, {
      hint: `Set registry.version to the running version: \`clouddrove config set registry.version VERSION\` (or --registry-version, CLOUDDROVE_REGISTRY_VERSION).`,
    });
  }
  const { credentials, source } = pass
    ? { credentials: pass.credentials, source: "rotation" }
    : await credentialsFor(ctx, flags, target, config);
  // The pull Secret names the load balancer too, once it has an address (see steps/deploy/pull-secret.ts).
  const liveService = await target.kube.get(named(Kinds.Service, names.service, config.namespace));
  const address = loadBalancerAddress(liveService);
  if (address) credentials.pullHosts = pullHosts(config, address);
  // The CA and server certificate: read back, made or renewed before the render (steps/deploy/tls.ts).
  const tls = usesPrivateCa(config)
    ? {
        prepared: await prepareServerTls(
          config,
          await readLiveTls(target.kube, config.namespace),
          address ? hostOf(address) : undefined,
          new Date(),
        ),
      }
    : undefined;
  // tls.mode secret: the Secret the registry serves, checked before anything is rendered (steps/deploy/tls-secret.ts).
  const served =
    config.tls.mode === "secret"
      ? await prepareServedSecret(target.kube, config, address ? hostOf(address) : undefined, new Date())
      : undefined;
  // The backup objects (when a bucket is set) come after the registry's: the CronJob mounts its claim.
  const objects = [
    ...(await renderManifests(config, credentials, tls?.prepared.tls, served)),
    ...(await renderBackupObjects(config)),
  ];
  const dryRun = serverDryRun || Boolean(flags.diff);
  // The installation's own directory on EFS (its access point); a volume made earlier keeps its source.
  const placement = await efsPlacement(target.kube, config, registryUser(objects), ctx.io.env, {
    dryRun,
    signal: ctx.io.signal,
  });
  if (placement) placeEfsVolume(objects, placement.handle);

  const deployContext: DeployContext = {
    kube: target.kube,
    config,
    options: {
      serverDryRun,
      diff: Boolean(flags.diff),
      force: Boolean(flags.force),
      forceConflicts: Boolean(flags.forceConflicts),
      smokeTest: flags.smokeTest !== false,
      timeoutMs: parseDurationMs(config.timeouts.deploy),
      signal: ctx.io.signal,
    },
    credentials,
    objects,
    tls,
    served,
    env: ctx.io.env,
    live: new Map(),
    applied: [],
    diffs: [],
    warnings: [],
    pullSecretPending: false,
    // Only the first pass created it; a rotation's later passes see it as it is.
    createdNamespace: run?.createdNamespace && !run.wroteAnything,
    stats: { writes: 0, reads: 0, lists: 0, watches: 0 },
  };
  const steps: StepRecord[] = [];
  const retention: { value?: RetentionOutcome } = {};
  const putRetentionRule = Boolean(config.backup.bucket) && flags.retentionRule !== false;
  const backupSection = () => backupDeploySection(config, retention.value, flags.retentionRule === false);
  deployContext.warnings.push(...(placement?.warnings ?? []), ...backupDeployNotes(config).warnings);
  if (config.tls.mode === "insecure-http") deployContext.warnings.push(insecureHttpWarning);
  const report = (
    ok: boolean,
    certificate?: DeployReport["certificate"],
  ): DeployReport & { backup?: ReturnType<typeof backupSection> } => ({
    ok,
    dryRun,
    target: target.label,
    reach: target.reach,
    objects: pass ? withEarlierPasses(deployContext.applied, pass.changed) : deployContext.applied,
    registry: {
      address: deployContext.address ?? null,
      inCluster: names.serviceHost(config.namespace),
      username: credentials.username,
      ...credentialsSecretNames,
      credentialsSource: source,
    },
    usage: registryUsage({
      tlsMode: config.tls.mode,
      address: deployContext.address ?? null,
      hostname: config.tls.hostname,
      namespace: config.namespace,
      username: credentials.username,
      reach: target.reach,
      privateCa: Boolean(deployContext.served?.privateCa),
      dnsRecord: deployContext.dnsRecord && {
        text: recordText(deployContext.dnsRecord.record),
        zone: deployContext.dnsRecord.zone,
      },
    }),
    certificate,
    warnings: deployContext.warnings,
    diffs: flags.diff ? deployContext.diffs : undefined,
    ...(config.backup.bucket ? { backup: backupSection() } : {}),
    steps,
  });
  // The bucket's rule first: a missing AWS credential or bucket stops the deploy before it changes anything.
  const tasks = [
    ...(putRetentionRule
      ? [
          retentionRuleStep<DeployContext>({
            config,
            target: backupBucketTarget(config, ctx.io.env),
            dryRun,
            outcome: retention,
            warnings: deployContext.warnings,
          }),
        ]
      : []),
    ...deployTasks({ dryRun, tls: config.tls }),
  ];
  try {
    await runTasks(ctx, recorded(tasks, steps), deployContext);
    if (run) run.wroteAnything = true;
  } catch (error) {
    if (run && deployContext.stats.writes > 0) run.wroteAnything = true;
    await writePendingPullSecret(deployContext).catch((problem: unknown) =>
      deployContext.warnings.push(
        `the pull Secret ${names.pullSecret} (which keeps the password) could not be written: ${(problem as Error).message}`,
      ),
    );
    // What the steps noticed before the failure often explains it (e.g. another field manager).
    for (const warning of deployContext.warnings) ctx.out.warn(warning);
    // -o json still gets its one document, with ok: false and the steps so far; the error goes to stderr.
    if (ctx.out.format === "json") await ctx.out.result(report(false), () => "");
    throw error;
  }
  for (const warning of deployContext.warnings) ctx.out.warn(warning);
  // A rotation's passes before the last report nothing: -o json prints the one document at the end.
  if (pass && !pass.final) {
    for (const object of withEarlierPasses(deployContext.applied, pass.changed)) {
      pass.changed.set(refKey(object), object.action);
    }
    return;
  }
  if (source === "generated") {
    ctx.out.info(
      `A registry password was generated and stored in Secret ${config.namespace}/${names.pullSecret}.`,
    );
  }
  const final = report(
    true,
    deployContext.tls
      ? await certificateSummary(deployContext.tls.prepared)
      : deployContext.served && (await servedCertificateSummary(deployContext.served)),
  );
  await ctx.out.result(final, () => {
    const text = deployReportText(final, config.namespace);
    return final.backup ? `${text}\n${backupDeployText(final.backup)}` : text;
  });
}
