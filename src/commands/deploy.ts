/**
 * `clouddrove deploy`: the registry on the cluster. `--dry-run` renders every object deploy applies, as
 * one multi-document YAML stream on stdout (JSON: a v1 List), secrets masked unless --show-secrets.
 */
import type { Command } from "commander";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import { addSettingOptions, settingGroups } from "./setting-options.js";

export interface DeployFlags extends Record<string, unknown> {
  dryRun?: boolean;
  showSecrets?: boolean;
  registryPasswordStdin?: boolean;
}

export function registerDeploy(program: Command, io: AppIO, state: RunState): void {
  const deploy = program
    .command("deploy")
    .description("put the highly available registry on the cluster (--dry-run: print the manifests)")
    .option("--dry-run", "print every object deploy would apply, in apply order, and change nothing")
    .option("--show-secrets", "with --dry-run: print Secret values instead of masking them")
    .option(
      "--registry-password-stdin",
      "read the registry password from stdin (else CLOUDDROVE_REGISTRY_PASSWORD)",
    );
  addSettingOptions(deploy, settingGroups.registry);
  deploy.action(async (flags: DeployFlags, command: Command) => {
    await runDeploy(createContext(io, command, state), flags);
  });
}

export async function runDeploy(ctx: CommandContext, flags: DeployFlags): Promise<void> {
  const { UsageError } = await import("../errors.js");
  if (flags.showSecrets && !flags.dryRun) {
    throw new UsageError("--show-secrets only applies to --dry-run.", {
      hint: "Add --dry-run, or drop --show-secrets.",
    });
  }
  if (!flags.dryRun) {
    throw new UsageError(
      "deploy applies to a cluster only in a later release; this build renders the manifests.",
      {
        hint: "Run `clouddrove deploy --dry-run -o yaml` and apply the output with `kubectl apply --server-side -f -`.",
      },
    );
  }
  const { resolveForPurpose } = await import("../config/options.js");
  const { generateSecret, htpasswdLine, resolveRegistryPassword } = await import("../config/secrets.js");
  const { maskSecrets, renderManifests, toYamlStream } = await import("../core/render/index.js");

  const { config } = await resolveForPurpose(ctx, flags, "deploy");
  const password = await resolveRegistryPassword({
    env: ctx.io.env,
    stdin: ctx.io.stdin,
    fromStdin: Boolean(flags.registryPasswordStdin),
    interactive: ctx.interactive,
    prompter: ctx.prompter,
  });
  const username = config.registry.username;
  // The bcrypt hash costs ~70 ms of CPU; a masked dry run never shows it, so it is only computed when shown.
  const htpasswd = await htpasswdLine(username, password.value);
  const objects = await renderManifests(config, {
    username,
    password: password.value,
    httpSecret: generateSecret(),
    htpasswd,
  });
  const shown = flags.showSecrets ? objects : maskSecrets(objects);

  if (config.network.allowedCidrs.length === 0) {
    ctx.out.warn(
      "network.allowedCidrs is empty: the NetworkPolicy admits only pods in namespace " +
        `${config.namespace}, so nothing outside it can reach the registry (set --allowed-cidrs to open it).`,
    );
  }
  if (password.source === "generated") {
    ctx.out.info("A registry password was generated (set CLOUDDROVE_REGISTRY_PASSWORD to choose one).");
  }
  if (ctx.out.format === "json") {
    await ctx.out.result({ apiVersion: "v1", kind: "List", items: shown }, () => "");
  } else {
    ctx.out.stdout(await toYamlStream(shown));
  }
}
