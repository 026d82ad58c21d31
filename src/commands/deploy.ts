/**
 * `clouddrove deploy`: the registry on the cluster of the current context (or --sandbox), then waits
 * until it serves. `--dry-run` renders every object locally (one YAML stream, secrets masked unless
 * --show-secrets); `--dry-run=server` and `--diff` send every write with dryRun=All and change nothing.
 */
import { type Command, Option } from "commander";
import { UsageError } from "../errors.js";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import type { DeployFlags } from "./deploy-flags.js";
// Static, not imported in the action: a dry run is the command whose start-up time matters most, and
// each further import() is one more round through the module loader. Only `deploy` loads this module.
import { renderOnly } from "./deploy-render.js";
import { addCommandSettings } from "./setting-options.js";

export function registerDeploy(program: Command, io: AppIO, state: RunState): void {
  const deploy = program
    .command("deploy")
    .description("put the highly available registry on the cluster and wait until it serves")
    .addOption(
      new Option(
        "--dry-run [mode]",
        "client (default): print every object, change nothing; server: send writes with dryRun=All",
      ).choices(["client", "server"]),
    )
    .option(
      "--diff",
      "show a unified diff of every object against the live one (server dry run; changes nothing)",
    )
    .option("--show-secrets", "with --dry-run: print Secret values instead of masking them")
    .option(
      "--registry-password-stdin",
      "read the registry password from stdin (else CLOUDDROVE_REGISTRY_PASSWORD)",
    )
    .option(
      "--rotate-credentials",
      "replace the stored password, htpasswd and http.secret (rolls the replicas)",
    )
    .option("--force", "deploy even when there are fewer schedulable zones than replicas")
    .option("--force-conflicts", "take over fields another field manager owns")
    .option("--no-smoke-test", "skip the check that every replica answers and accepts the credentials")
    .option("--sandbox", "deploy to the simulated three-zone sandbox cluster (no AWS)")
    .option(
      "--no-retention-rule",
      "with a backup bucket: do not put the retention lifecycle rule on it (e.g. a store without that API)",
    );
  addCommandSettings(deploy, "deploy");
  deploy.action(async (flags: DeployFlags, command: Command) => {
    await runDeploy(createContext(io, command, state), flags);
  });
}

/** commander has already refused modes other than client and server (exit 2). */
function dryRunMode(flags: DeployFlags): "none" | "client" | "server" {
  if (flags.dryRun === undefined || flags.dryRun === false) return "none";
  return flags.dryRun === "server" ? "server" : "client";
}

export async function runDeploy(ctx: CommandContext, flags: DeployFlags): Promise<void> {
  const mode = dryRunMode(flags);
  if (flags.showSecrets && mode !== "client") {
    throw new UsageError("--show-secrets only applies to --dry-run (client).", {
      hint: "Add --dry-run, or drop --show-secrets.",
    });
  }
  if (flags.diff && mode === "client") {
    throw new UsageError(
      "--diff compares with the live cluster; it cannot be combined with a client --dry-run.",
      {
        hint: "Use --diff alone (it changes nothing), or --dry-run alone.",
      },
    );
  }
  if (mode === "client") return renderOnly(ctx, flags);
  return deployToCluster(ctx, flags, mode === "server");
}

/** A rotation locks out every client still using the old password: said first, then a yes (or --yes). */
async function confirmRotation(ctx: CommandContext): Promise<boolean> {
  const { names } = await import("../core/render/names.js");
  const { confirmAction } = await import("./confirm.js");
  return confirmAction(ctx, {
    action: "Rotating the registry credentials",
    effects: [
      `a new password, htpasswd entry and http.secret replace the stored ones (Secrets ${names.htpasswdSecret}, ${names.pullSecret}, ${names.httpSecret})`,
      "the replicas restart one at a time to take them",
      "every client using the old password (docker login, image pulls with the pull Secret's old content) must use the new one",
    ],
  });
}

async function deployToCluster(
  ctx: CommandContext,
  flags: DeployFlags,
  serverDryRun: boolean,
): Promise<void> {
  const { existsSync } = await import("node:fs");
  const { resolve } = await import("node:path");
  const { DEFAULT_CONFIG_FILE } = await import("../config/load.js");
  // First run at a terminal with no configuration: the init questions come first.
  const configPath = resolve(ctx.io.cwd, ctx.globals.config ?? DEFAULT_CONFIG_FILE);
  if (ctx.interactive && !existsSync(configPath)) {
    const { runInit } = await import("./init.js");
    await runInit(ctx, flags);
  }
  if (flags.rotateCredentials && !serverDryRun && !(await confirmRotation(ctx))) return;
  const { openClusterTarget } = await import("./cluster-target.js");
  const target = await openClusterTarget(ctx, { sandbox: flags.sandbox });
  try {
    const { executeDeploy } = await import("./deploy-run.js");
    await executeDeploy(ctx, flags, target, serverDryRun);
  } finally {
    await target.close();
  }
}
