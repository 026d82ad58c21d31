/**
 * `clouddrove status`: is the registry healthy right now? Nodes, replicas (with the scheduler's reason
 * for any that are not ready), storage, service, policies, disruption budget and the last backup.
 * Exit 0 when healthy, 1 when not.
 */
import type { Command } from "commander";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import { addCommandSettings } from "./setting-options.js";

export function registerStatus(program: Command, io: AppIO, state: RunState): void {
  const status = program
    .command("status")
    .description("health of the registry, its nodes, storage and service (exit 1 when unhealthy)")
    .option("--sandbox", "check the simulated sandbox cluster");
  addCommandSettings(status, "status").action(async (flags: { sandbox?: boolean }, command: Command) => {
    await runStatus(createContext(io, command, state), flags);
  });
}

export async function runStatus(ctx: CommandContext, flags: { sandbox?: boolean }): Promise<void> {
  const { resolveFromContext } = await import("../config/options.js");
  const { backupStatusWarnings } = await import("../core/backup/deploy-notes.js");
  const { evaluateHealth } = await import("../core/health/evaluate.js");
  const { healthReportText } = await import("../core/health/report-text.js");
  const { names } = await import("../core/render/names.js");
  const { gatherSnapshot } = await import("../steps/health/gather.js");
  const { checkReplicaLogins } = await import("../steps/health/replica-logins.js");
  const { gatherTlsStatus } = await import("../steps/health/tls.js");
  const { kubernetesSupportWarning } = await import("../steps/health/kubernetes-support.js");
  const { loadBalancerAddress } = await import("../steps/deploy/wait.js");
  const { registryUsage } = await import("../core/tls/usage.js");
  const { tlsStatusText } = await import("../core/tls/status.js");
  const { openClusterTarget } = await import("./cluster-target.js");

  const { readRecordedVersion } = await import("../steps/upgrade/version-record.js");
  const { readOnlyWarnings } = await import("../steps/gc/look-up.js");

  const { config, sources } = await resolveFromContext(ctx, flags);
  const target = await openClusterTarget(ctx, flags);
  // The sandbox's region (and, through ctx.io.env, its AWS endpoint) once the target is open.
  const region =
    (target.settings.region as string | undefined) ??
    config.cluster.region ??
    ctx.io.env.AWS_REGION ??
    ctx.io.env.AWS_DEFAULT_REGION;
  try {
    const [snapshot, recorded, kubernetesSupport] = await Promise.all([
      gatherSnapshot(target.kube, config.namespace),
      readRecordedVersion(target.kube, config.namespace),
      kubernetesSupportWarning(target.kube, region, ctx.io.env, new Date()),
    ]);
    // Unless registry.version is set somewhere, the version an upgrade left running is the expected one.
    const version =
      sources.get("registry.version") === "default" && recorded ? recorded : config.registry.version;
    snapshot.replicaLogins = await checkReplicaLogins(target.kube, config.namespace, snapshot.pods);
    const report = evaluateHealth(snapshot, {
      replicas: config.registry.replicas,
      image: `${config.registry.image}:${version}`,
      networkPolicies: [names.networkPolicies.defaultDeny, names.networkPolicies.registryIngress],
      requireLoadBalancer: true,
    });
    const tls = await gatherTlsStatus(target.kube, config.namespace, new Date());
    const address = loadBalancerAddress(snapshot.service) ?? null;
    const { loadBalancerRecord, recordText } = await import("../core/tls/acm.js");
    const { hostOf } = await import("../core/tls/plan.js");
    const usage = registryUsage({
      tlsMode: tls.mode ?? config.tls.mode,
      privateCa: tls.privateCa,
      // acm: the record the name needs (deploy wrote it to Route 53 with tls.hostedZoneId).
      dnsRecord:
        tls.mode === "acm" && config.tls.hostname && address
          ? {
              text: recordText(loadBalancerRecord(config.tls.hostname, hostOf(address))),
              zone: config.tls.hostedZoneId,
            }
          : undefined,
      address,
      hostname: config.tls.hostname,
      namespace: config.namespace,
      username: config.registry.username,
      reach: target.reach,
    });
    // Warnings are not problems: they leave `healthy` (and the exit code) alone.
    const warnings = [
      ...(kubernetesSupport ? [kubernetesSupport] : []),
      ...(await readOnlyWarnings(target.kube, config.namespace)),
      ...backupStatusWarnings(config),
      ...tls.warnings,
    ];
    await ctx.out.result({ target: target.label, ...report, tls: { ...tls, usage }, warnings }, () =>
      [
        healthReportText(report, target.label, new Date()),
        "",
        ...tlsStatusText(tls, usage),
        ...(warnings.length > 0 ? ["", "Warnings:", ...warnings.map((w) => `  - ${w}`)] : []),
      ].join("\n"),
    );
    if (!report.healthy) ctx.state.exitCode = 1;
  } finally {
    await target.close();
  }
}
