/**
 * What `cluster create`, `verify` and `delete` share: the cluster settings, resolved (and, at a terminal
 * for `create`, asked for).
 */
import type { AwsClients } from "../adapters/aws.js";
import type { Source } from "../config/resolve.js";
import type { Setting, SettingValue } from "../config/settings.js";
import type { ZoneInfo } from "../core/cluster/preflight.js";
import type { EksVersion } from "../core/cluster/versions.js";
import type { CommandContext } from "./context.js";

export type Flags = Record<string, unknown>;

const EXPLICIT: ReadonlySet<Source> = new Set(["flag", "env", "set", "file"]);

/** Resolves the cluster settings; at a terminal, asks region, name, zones and version (defaults offered). */
export async function clusterSettings(ctx: CommandContext, flags: Flags, ask: boolean) {
  const { resolveFromContext } = await import("../config/options.js");
  const { answerProblem, missingSettingsError, parseSettingValue } = await import("../config/resolve.js");
  const { requiredSettings } = await import("../config/schema.js");
  const { SETTINGS_BY_KEY } = await import("../config/settings.js");
  const { awsClients } = await import("../adapters/connect.js");
  const { usableZones } = await import("../core/cluster/preflight.js");
  const { offeredVersions, offeredZones } = await import("../steps/cluster/preflight.js");

  const first = await resolveFromContext(ctx, flags);
  const answers = new Map<string, SettingValue>();
  let clients: AwsClients | undefined;
  let offered: ZoneInfo[] | undefined;
  let versions: EksVersion[] | undefined;
  if (ask && ctx.interactive) {
    const needs = (key: string) => !EXPLICIT.has(first.sources.get(key) ?? "default");
    const validator = (key: string, extra?: (v: SettingValue) => string | undefined) => (text: string) => {
      const setting = SETTINGS_BY_KEY.get(key) as Setting;
      return answerProblem(setting, text) ?? extra?.(parseSettingValue(setting, text.trim(), "your answer"));
    };
    const askText = async (
      key: string,
      message: string,
      fallback?: string,
      extra?: (v: SettingValue) => string | undefined,
    ) => {
      const text = await ctx.prompter.input({ message, default: fallback, validate: validator(key, extra) });
      answers.set(key, parseSettingValue(SETTINGS_BY_KEY.get(key) as never, text.trim(), "your answer"));
    };
    if (needs("cluster.region")) {
      const known = first.config.cluster.region ?? ctx.io.env.AWS_REGION ?? ctx.io.env.AWS_DEFAULT_REGION;
      await askText("cluster.region", "AWS region of the cluster", known);
    }
    const region =
      (answers.get("cluster.region") as string | undefined) ?? (first.config.cluster.region as string);
    if (needs("cluster.name")) await askText("cluster.name", "EKS cluster name", first.config.cluster.name);
    clients = await awsClients(region, ctx.io.env);
    if (needs("cluster.zones")) {
      offered = await offeredZones(clients);
      const usable = usableZones(offered);
      await askText(
        "cluster.zones",
        `Three availability zones (${region} offers ${usable.join(", ")})`,
        usable.slice(0, 3).join(","),
        (v) => {
          const zones = v as string[];
          const foreign = zones.filter((z) => !usable.includes(z));
          if (foreign.length) return `Not offered by ${region}: ${foreign.join(", ")}`;
          return new Set(zones).size === 3 ? undefined : "Name exactly three distinct zones.";
        },
      );
    }
    if (needs("cluster.kubernetesVersion")) {
      const { defaultVersionForNewClusters, versionLabel } = await import("../core/cluster/versions.js");
      versions = await offeredVersions(clients);
      const offeredNow = versions?.filter((v) => v.support !== "unsupported") ?? [];
      const current = first.config.cluster.kubernetesVersion;
      if (versions && offeredNow.length > 0) {
        const version = await ctx.prompter.select({
          message: "Kubernetes version",
          choices: [...offeredNow].reverse().map((v) => ({ value: v.version, name: versionLabel(v) })),
          default:
            current && offeredNow.some((v) => v.version === current)
              ? current
              : defaultVersionForNewClusters(versions),
        });
        answers.set("cluster.kubernetesVersion", version);
      } else await askText("cluster.kubernetesVersion", "Kubernetes version", current);
    }
  }
  const resolved = answers.size > 0 ? await resolveFromContext(ctx, flags, answers) : first;
  const missing = requiredSettings(resolved.config, "cluster").filter((key) => !resolved.values.has(key));
  if (missing.length > 0) throw missingSettingsError(missing);
  const { cluster } = resolved.config;
  const values = {
    name: cluster.name,
    region: cluster.region as string,
    zones: cluster.zones,
    kubernetesVersion: cluster.kubernetesVersion,
    instanceType: cluster.instanceType,
  };
  return {
    resolved,
    values,
    clients: clients ?? (await awsClients(values.region, ctx.io.env)),
    offered,
    versions,
  };
}
