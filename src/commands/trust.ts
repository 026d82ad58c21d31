/**
 * `clouddrove trust`: this machine's Docker, containerd/nerdctl and Podman trust the registry's private CA
 * (TLS mode private-ca). The CA certificate and the registry's addresses come from the cluster; the CA key
 * is never read. Without the rights to write the files it prints the commands that do, as root.
 */
import type { Command } from "commander";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import { addCommandSettings } from "./setting-options.js";

type TrustFlags = {
  sandbox?: boolean;
  printCa?: boolean;
  dryRun?: boolean;
  trustRootDir?: string;
};

export function registerTrust(program: Command, io: AppIO, state: RunState): void {
  const command = program
    .command("trust")
    .description("install the registry's private CA for this machine's Docker, containerd/nerdctl and Podman")
    .option("--sandbox", "the registry on the simulated sandbox cluster")
    .option("--print-ca", "print the CA certificate (PEM) only; write nothing")
    .option("--dry-run", "show the files and their contents; write nothing")
    .action(async (flags: TrustFlags, cmd: Command) => runTrust(createContext(io, cmd, state), flags));
  addCommandSettings(command, "trust");
}

export async function runTrust(ctx: CommandContext, flags: TrustFlags): Promise<void> {
  const { resolveFromContext } = await import("../config/options.js");
  const { openClusterTarget } = await import("./cluster-target.js");
  const { readRegistryAddresses, readRegistryCa } = await import("../steps/trust/lookup.js");

  const { config } = await resolveFromContext(ctx, flags);
  const target = await openClusterTarget(ctx, flags);
  try {
    const ca = await readRegistryCa(target.kube, config.namespace);
    if (flags.printCa) {
      ctx.out.stdout(ca.pem);
      return;
    }
    const addresses = await readRegistryAddresses(target.kube, config.namespace);
    await installForClients(ctx, flags, config.trust.rootDir, { ca, addresses });
  } finally {
    await target.close();
  }
}

async function installForClients(
  ctx: CommandContext,
  flags: TrustFlags,
  rootDir: string,
  found: {
    ca: import("../core/trust/ca.js").CaCertificate;
    addresses: import("../core/trust/address.js").RegistryAddress[];
  },
): Promise<void> {
  const { installCaForClients } = await import("./trust-install.js");
  const { trustReportText } = await import("../core/trust/report.js");
  const options = { dryRun: flags.dryRun, rootDir, rerun: "clouddrove trust" };
  const { report, changing } = await installCaForClients(ctx, options, found);
  await ctx.out.result(report, () => trustReportText(report));
  if (report.outcome === "written") {
    ctx.out.success(
      changing === 0
        ? "The CA was already installed; nothing changed."
        : `Installed the registry's CA for Docker, containerd/nerdctl and Podman (${changing} files).`,
    );
  }
}
