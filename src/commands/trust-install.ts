/**
 * Installing the registry's private CA for this machine's Docker, containerd/nerdctl and Podman, as
 * `trust` and `login` do it: plan the files, then write them all, none (a dry run), or none with the
 * commands that write them as root (no rights). Prints nothing but the warning about the rights; the
 * caller reports.
 */
import type { RegistryAddress } from "../core/trust/address.js";
import type { CaCertificate } from "../core/trust/ca.js";
import type { TrustReport } from "../core/trust/report.js";
import type { CommandContext } from "./context.js";

export interface TrustInstall {
  report: TrustReport;
  /** How many files were (or would be) created or updated. */
  changing: number;
}

export async function installCaForClients(
  ctx: CommandContext,
  options: { dryRun?: boolean; rootDir: string; rerun: string },
  found: { ca: CaCertificate; addresses: RegistryAddress[] },
): Promise<TrustInstall> {
  const { hostPort } = await import("../core/trust/address.js");
  const { clientTrustFiles, sudoCommands } = await import("../core/trust/client-files.js");
  const { planTrustFiles, writeTrustFiles } = await import("../steps/trust/client.js");

  const { pem, sha256: _sha, ...caFacts } = found.ca;
  const planned = await planTrustFiles(clientTrustFiles(pem, found.addresses, options.rootDir));
  const changing = planned.filter((file) => file.action !== "unchanged");
  const report: TrustReport = {
    addresses: found.addresses.map(hostPort),
    ca: caFacts,
    files: planned.map(({ tool, path, action }) => ({ tool, path, action })),
    outcome: "written",
  };
  if (options.dryRun) {
    report.outcome = "dry-run";
    report.contents = Object.fromEntries(changing.map((file) => [file.path, file.content]));
  } else if (changing.some((file) => !file.writable)) {
    // All or nothing: a half-trusted machine (Docker yes, Podman no) is harder to reason about than none.
    report.outcome = "needs-root";
    report.commands = sudoCommands(changing);
    ctx.out.warn(
      `No rights to write ${changing.find((file) => !file.writable)?.path}: nothing was written. ` +
        `Run the commands printed below (they write the same files with sudo), or run ${options.rerun} as root.`,
    );
  } else {
    await writeTrustFiles(changing);
  }
  return { report, changing: changing.length };
}
