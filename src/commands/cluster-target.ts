/**
 * The cluster a command works on: the kubeconfig context (--kubeconfig, --context), or with --sandbox the
 * simulated three-zone cluster, started in-process from the state saved by the previous sandbox command.
 */
import type { Kube } from "../adapters/kube.js";
import type { CommandContext } from "./context.js";

export interface ClusterTarget {
  kube: Kube;
  /** How to name it to the user: the context, or "the sandbox (simulated)". */
  label: string;
  sandbox?: import("@clouddrove/sandbox").Sandbox;
  /** Stops the sandbox, saving its state; a no-op for a real cluster. */
  close(): Promise<void>;
}

/** An EFS id for the sandbox's simulated EFS driver, used when the configuration names none. */
export const SANDBOX_EFS_ID = "fs-05a4db0c5a4db0c5a";

/** Simulated milliseconds per real millisecond: fast, but slow enough that progress is visible. */
export function sandboxSpeed(env: NodeJS.ProcessEnv): number {
  const speed = Number(env.CLOUDDROVE_SANDBOX_SPEED ?? 50);
  return Number.isFinite(speed) && speed > 0 ? speed : 50;
}

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
    return { kube, label: `context ${kube.context}`, close: async () => {} };
  }
  const { defaultStateDir, startSandbox } = await import("@clouddrove/sandbox");
  const stateDir = defaultStateDir(ctx.io.env);
  const sandbox = await startSandbox({ stateDir, speed: sandboxSpeed(ctx.io.env) });
  ctx.out.info(
    ctx.out.paint.yellow(
      `Using the sandbox: a simulated three-zone cluster on this machine (no AWS); state in ${stateDir}.`,
    ),
  );
  try {
    const kube = await connectKube({
      env: ctx.io.env,
      signal: ctx.io.signal,
      kubeconfigText: sandbox.kubeconfig(),
    });
    return {
      kube,
      sandbox,
      label: "the sandbox (simulated)",
      // stop() saves the state for the next sandbox command.
      close: () => sandbox.stop(),
    };
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}
