/**
 * `deploy --dry-run`: every object deploy would apply, rendered locally (one YAML stream, or a v1 List
 * under -o json), secrets masked unless --show-secrets. No cluster is needed.
 */
import { resolveForPurpose } from "../config/options.js";
import type { Config } from "../config/schema.js";
import { generateSecret, htpasswdLine, passwordInputs, resolveRegistryPassword } from "../config/secrets.js";
import { renderBackupObjects } from "../core/backup/render.js";
import { maskSecrets, renderManifests, toYamlStream, usesPrivateCa } from "../core/render/index.js";
import { certManagerCertificate } from "../core/render/tls-modes.js";
import { insecureHttpWarning } from "../core/tls/plan.js";
import { prepareServerTls } from "../core/tls/prepare.js";
import type { CommandContext } from "./context.js";
import type { DeployFlags } from "./deploy-flags.js";

const MADE_BY_DEPLOY = { certificate: "<made by clouddrove deploy>", key: "<made by clouddrove deploy>" };

export async function renderOnly(ctx: CommandContext, flags: DeployFlags): Promise<void> {
  const { config } = await resolveForPurpose(ctx, flags, "deploy");
  const password = await resolveRegistryPassword(passwordInputs(ctx, Boolean(flags.registryPasswordStdin)));
  const username = config.registry.username;
  // A masked render never shows the htpasswd line, so it is not worth bcrypt's ~70 ms: a well-formed
  // stand-in keeps the render (and its pod-template checksum) deterministic.
  const htpasswd = flags.showSecrets
    ? await htpasswdLine(username, password.value)
    : `${username}:$2y$10$${"masked".padEnd(53, ".")}`;
  // With --show-secrets (output to apply as is): a CA and server certificate made for this output only
  // (nothing else holds them), for the names known without a cluster; deploy keeps the cluster's own.
  // Masked, a stand-in: the output cannot be applied anyway, and making keys would load the X.509 library.
  const tls = !usesPrivateCa(config)
    ? undefined
    : flags.showSecrets
      ? (await prepareServerTls(config, {}, undefined, new Date())).tls
      : { ca: MADE_BY_DEPLOY, server: MADE_BY_DEPLOY };
  const objects = [
    ...(await renderManifests(
      config,
      { username, password: password.value, httpSecret: generateSecret(), htpasswd },
      tls,
    )),
    // After the registry objects: the CronJob mounts the registry's claim.
    ...(await renderBackupObjects(config)),
  ];
  // cert-manager's Certificate first: deploy applies it, and waits for it, before the registry's objects.
  if (config.tls.mode === "secret" && config.tls.certManagerIssuer)
    objects.unshift(certManagerCertificate(config));
  const shown = flags.showSecrets ? objects : maskSecrets(objects);
  warnIfClosed(ctx, config);
  if (config.backup.bucket) {
    const { backupDeployNotes } = await import("../core/backup/deploy-notes.js");
    for (const warning of backupDeployNotes(config).warnings) ctx.out.warn(warning);
    if (flags.retentionRule !== false) {
      ctx.out.info(
        `deploy also puts the lifecycle rule clouddrove-backup-retention on s3://${config.backup.bucket}/${config.backup.prefix} ` +
          `(unfinished uploads aborted after 2 days; each backup run prunes snapshots: the newest ${config.backup.keepLast}, ` +
          `and all younger than ${config.backup.retentionDays} days, are kept); --no-retention-rule skips it.`,
      );
    }
  }
  if (password.source === "generated") {
    ctx.out.info("A registry password was generated (set CLOUDDROVE_REGISTRY_PASSWORD to choose one).");
  }
  if (ctx.out.format === "json") {
    await ctx.out.result({ apiVersion: "v1", kind: "List", items: shown }, () => "");
  } else {
    ctx.out.stdout(toYamlStream(shown));
  }
}

function warnIfClosed(ctx: CommandContext, config: Config): void {
  if (config.tls.mode === "insecure-http") ctx.out.warn(insecureHttpWarning);
  if (config.network.allowedCidrs.length === 0) {
    ctx.out.warn(
      "network.allowedCidrs is empty: the NetworkPolicy admits only pods in namespace " +
        `${config.namespace}, so nothing outside it can reach the registry (set --allowed-cidrs to open it).`,
    );
  }
}
