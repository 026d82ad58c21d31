/**
 * The cluster a command works on, always reached through a kubeconfig: the one named by --kubeconfig and
 * --context (else the current context), or with --sandbox the sandbox's own kubeconfig and context —
 * started in the background first when it is not running, and said so.
 */
import type { Kube } from "../adapters/kube.js";
import type { CommandContext } from "./context.js";
import { loadSandboxPackage, sandboxCall, sandboxSpeed } from "./sandbox-package.js";

export interface ClusterTarget {
  kube: Kube;
  /** How to name it to the user: the context, or "the sandbox (simulated)". */
  label: string;
  /** Settings this cluster supplies where the configuration names none (the sandbox's EFS file system). */
  defaults?: Map<string, string>;
  /** The flags a printed next step needs to reach the same cluster. */
  reach: { kubectl: string[]; clouddrove: string[] };
  /** Releases what the command opened; the cluster itself (the sandbox too) keeps running. */
  close(): Promise<void>;
}

/** An EFS id for the sandbox's simulated EFS driver, used when the configuration names none. */
export const SANDBOX_EFS_ID = "fs-05a4db0c5a4db0c5a";

export { sandboxSpeed };

/** The kubeconfig, context, environment and abort signal the command was run with, for connectKube. */
export function kubeConnection(ctx: CommandContext) {
  return {
    kubeconfigPath: ctx.globals.kubeconfig,
    context: ctx.globals.context,
    env: ctx.io.env,
    signal: ctx.io.signal,
  };
}

export async function openClusterTarget(
  ctx: CommandContext,
  options: { sandbox?: boolean },
): Promise<ClusterTarget> {
  const { connectKube } = await import("../adapters/kube.js");
  if (!options.sandbox) {
    const kube = await connectKube(kubeConnection(ctx));
    const kubeconfig = ctx.globals.kubeconfig ? ["--kubeconfig", ctx.globals.kubeconfig] : [];
    const flags = [...kubeconfig, "--context", kube.context];
    return {
      kube,
      label: `context ${kube.context}`,
      reach: { kubectl: flags, clouddrove: flags },
      close: async () => {},
    };
  }
  if (ctx.globals.kubeconfig || ctx.globals.context) {
    const { UsageError } = await import("../errors.js");
    throw new UsageError("--sandbox names the cluster already; --kubeconfig and --context name another.", {
      hint: "Pass either --sandbox, or --kubeconfig/--context (the sandbox's: `clouddrove sandbox status`).",
    });
  }
  const sandbox = await loadSandboxPackage();
  const stateDir = sandbox.defaultStateDir(ctx.io.env);
  const running = await sandboxCall(sandbox, () =>
    sandbox.up({ stateDir, speed: sandboxSpeed(ctx.io.env), env: ctx.io.env }),
  );
  ctx.out.info(
    ctx.out.paint.yellow(
      running.started
        ? `Started the sandbox in the background (pid ${running.pid}; \`clouddrove sandbox down\` stops it): a simulated three-zone cluster on this machine, no AWS.`
        : `Using the sandbox (pid ${running.pid}): a simulated three-zone cluster on this machine, no AWS.`,
    ),
  );
  const kube = await connectKube({
    kubeconfigPath: running.kubeconfig,
    context: running.context,
    env: ctx.io.env,
    signal: ctx.io.signal,
  });
  return {
    kube,
    label: "the sandbox (simulated)",
    defaults: new Map([["storage.efs.fileSystemId", SANDBOX_EFS_ID]]),
    reach: {
      kubectl: ["--kubeconfig", running.kubeconfig, "--context", running.context],
      clouddrove: ["--sandbox"],
    },
    close: async () => {},
  };
}
