/**
 * `clouddrove login`: this machine's Docker (and nerdctl, Podman where installed) logs in to the registry
 * with the credentials of its pull Secret, the password on the tool's stdin. In the private-ca TLS mode the
 * registry's CA is trusted first, as `clouddrove trust` does it. Where Docker is not installed, or the CA
 * could not be trusted for lack of rights, it prints the commands that do it (the password read by kubectl
 * and piped to `--password-stdin`, never printed).
 */
import type { Command } from "commander";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import { addCommandSettings } from "./setting-options.js";

type LoginFlags = {
  sandbox?: boolean;
  dryRun?: boolean;
  trustRootDir?: string;
};

/** A login answers within seconds; a tool that hangs (a stuck daemon) is given up on after this. */
const LOGIN_TIMEOUT_MS = 120_000;

export function registerLogin(program: Command, io: AppIO, state: RunState): void {
  const command = program
    .command("login")
    .description(
      "log this machine's Docker (and nerdctl, Podman) in to the registry, trusting its private CA first",
    )
    .option("--sandbox", "the registry on the simulated sandbox cluster")
    .option("--dry-run", "show what would be trusted and run; change nothing")
    .action(async (flags: LoginFlags, cmd: Command) => runLogin(createContext(io, cmd, state), flags));
  addCommandSettings(command, "login");
}

export async function runLogin(ctx: CommandContext, flags: LoginFlags): Promise<void> {
  const { resolveFromContext } = await import("../config/options.js");
  const { openClusterTarget } = await import("./cluster-target.js");
  const { readRegistryAddresses, readRegistryCa } = await import("../steps/trust/lookup.js");
  const { readPullCredentials } = await import("../steps/login/clients.js");
  const { hostPort } = await import("../core/trust/address.js");
  const { names } = await import("../core/render/names.js");

  const { config } = await resolveFromContext(ctx, flags);
  const target = await openClusterTarget(ctx, flags);
  try {
    const credentials = await readPullCredentials(target.kube, config.namespace);
    const balancer = await readRegistryAddresses(target.kube, config.namespace);
    // The name image names use: tls.hostname when set (the certificate names it), else the load balancer's.
    const address = config.tls.hostname
      ? { host: config.tls.hostname, port: names.ports.registry }
      : (balancer[0] as (typeof balancer)[number]);
    let trust: import("./trust-install.js").TrustInstall | undefined;
    if (config.tls.mode === "private-ca") {
      const { installCaForClients } = await import("./trust-install.js");
      const ca = await readRegistryCa(target.kube, config.namespace);
      const addresses = [...new Map([...balancer, address].map((a) => [hostPort(a), a])).values()];
      const options = { dryRun: flags.dryRun, rootDir: config.trust.rootDir, rerun: "clouddrove login" };
      trust = await installCaForClients(ctx, options, { ca, addresses });
    } else if (config.tls.mode === "insecure-http") {
      ctx.out.warn(
        `The registry speaks plain HTTP: Docker logs in only after "${hostPort(address)}" is listed in ` +
          `"insecure-registries" (/etc/docker/daemon.json), and the password crosses the network unencrypted.`,
      );
    }
    await loginClients(ctx, flags, {
      address: hostPort(address),
      credentials,
      tlsMode: config.tls.mode,
      namespace: config.namespace,
      kubectl: target.reach.kubectl,
      trust,
    });
  } finally {
    await target.close();
  }
}

async function loginClients(
  ctx: CommandContext,
  flags: LoginFlags,
  input: {
    address: string;
    credentials: import("../steps/login/clients.js").PullCredentials;
    tlsMode: string;
    namespace: string;
    kubectl: string[];
    trust?: import("./trust-install.js").TrustInstall;
  },
): Promise<void> {
  const { LOGIN_TOOLS, loginArgs, loginReportText, printedLogin } = await import("../core/login/plan.js");
  const { trustReportText } = await import("../core/trust/report.js");
  const { findLoginTools, runToolLogin } = await import("../steps/login/clients.js");
  type ClientLogin = import("../core/login/plan.js").ClientLogin;

  const { address, credentials } = input;
  const found = findLoginTools(ctx.io.env);
  // Without the CA in place the tools would fail on the certificate: the commands are printed instead.
  const untrusted = input.trust?.report.outcome === "needs-root";
  const clients: ClientLogin[] = [];
  for (const tool of LOGIN_TOOLS) {
    const path = found.get(tool);
    const printed = () =>
      printedLogin({
        tool,
        address,
        username: credentials.username,
        namespace: input.namespace,
        kubectl: input.kubectl,
      });
    if (path === undefined) {
      // nerdctl and Podman are optional; Docker is what login is for, so its command is always given.
      if (tool === "docker")
        clients.push({
          tool,
          installed: false,
          outcome: "run-yourself",
          command: printed(),
          message: "not installed here",
        });
      continue;
    }
    if (flags.dryRun) {
      clients.push({
        tool,
        installed: true,
        outcome: "would-run",
        command: [tool, ...loginArgs(address, credentials.username)].join(" "),
      });
    } else if (untrusted) {
      clients.push({
        tool,
        installed: true,
        outcome: "run-yourself",
        command: printed(),
        message: "not run: the CA is not trusted yet (run the sudo commands above first)",
      });
    } else {
      const options = { env: ctx.io.env, timeoutMs: LOGIN_TIMEOUT_MS, signal: ctx.io.signal };
      clients.push(await runToolLogin({ name: tool, path }, address, credentials, options));
    }
  }
  const report: import("../core/login/plan.js").LoginReport = {
    address,
    username: credentials.username,
    tlsMode: input.tlsMode,
    ...(input.trust ? { trust: input.trust.report } : {}),
    clients,
  };
  const trustText = input.trust ? trustReportText(input.trust.report) : undefined;
  await ctx.out.result(report, () => loginReportText(report, trustText));
  const failed = clients.filter((client) => client.outcome === "failed");
  if (failed.length > 0) {
    ctx.state.exitCode = 1;
    ctx.out.warn(`Login failed for ${failed.map((c) => c.tool).join(", ")} (see above).`);
  }
  const done = clients.filter((client) => client.outcome === "logged-in");
  if (done.length > 0) ctx.out.success(`Logged ${done.map((c) => c.tool).join(", ")} in to ${address}.`);
}
