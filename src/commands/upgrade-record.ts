/**
 * After an upgrade that moved the registry to another version: the version is recorded in the cluster
 * (for `status` and `deploy` when nothing else names registry.version) and, where a config file is in
 * use, written into it after a confirmation (or with --yes); what is left stale is said exactly.
 */
import type { Kube } from "../adapters/kube.js";
import type { ResolvedConfig } from "../config/resolve.js";
import type { CommandContext } from "./context.js";

export async function recordUpgradedVersion(
  ctx: CommandContext,
  resolved: ResolvedConfig,
  kube: Kube,
  version: string,
): Promise<void> {
  const { recordVersion, VERSION_CONFIGMAP } = await import("../steps/upgrade/version-record.js");
  const { staleVersionConsequence } = await import("../core/upgrade/version-note.js");
  const namespace = resolved.config.namespace;
  await recordVersion(kube, namespace, version, "clouddrove upgrade");
  const configured = resolved.config.registry.version;
  const source = resolved.sources.get("registry.version");
  const recorded = `recorded in the cluster (ConfigMap ${namespace}/${VERSION_CONFIGMAP})`;
  if (configured === version) return;
  if (source === "env" || source === "set") {
    const where = source === "env" ? "CLOUDDROVE_REGISTRY_VERSION" : "--set registry.version";
    ctx.out.warn(
      `The registry now runs ${version} (${recorded}), but ${where} says ${configured}: ${staleVersionConsequence(configured, version)}. Change it to ${version}.`,
    );
    return;
  }
  if (!resolved.file) {
    ctx.out.info(`registry.version ${version} is ${recorded}: status and deploy use it.`);
    return;
  }
  const write = ctx.globals.yes
    ? true
    : ctx.interactive
      ? await ctx.prompter.confirm({
          message: `Write registry.version ${version} into ${resolved.file} (it says ${configured})?`,
          default: true,
        })
      : false;
  if (write) {
    const { setConfigValue } = await import("../config/set.js");
    await setConfigValue({
      cwd: ctx.io.cwd,
      configPath: resolved.file,
      key: "registry.version",
      raw: version,
    });
    ctx.out.info(`registry.version: ${version} in ${resolved.file} (and ${recorded}).`);
    return;
  }
  const says =
    source === "file" ? `${resolved.file} says ${configured}` : `registry.version is not in ${resolved.file}`;
  ctx.out.warn(
    `The registry now runs ${version} (${recorded}); ${says}${source === "file" ? `: ${staleVersionConsequence(configured, version)}` : ", so the recorded version is used"}. To write it: clouddrove config set registry.version ${version}`,
  );
}
