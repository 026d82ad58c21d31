/**
 * The cluster a command works on: the kubeconfig context (--kubeconfig, --context), or with --sandbox the
 * simulated three-zone cluster, started in-process from the state saved by the previous sandbox command.
 * With --sandbox the command's environment (ctx.io.env) gets the sandbox's AWS environment, so the AWS
 * adapters below reach the sandbox's AWS endpoint exactly as they reach AWS; nothing below commands/
 * knows the sandbox.
 */
import type { Kube } from "../adapters/kube.js";
import type { CommandContext } from "./context.js";

export interface ClusterTarget {
  kube: Kube;
  /** How to name it to the user: the context, or "the sandbox (simulated)". */
  label: string;
  sandbox?: import("@clouddrove/sandbox").Sandbox;
  /**
   * Settings the target fixes, ranked like flags (a flag given still wins): for the sandbox its EKS
   * cluster's name and region, whatever clouddrove.yaml says about the real cluster.
   */
  settings: Record<string, unknown>;
  /** Stops the sandbox, saving its state; a no-op for a real cluster. */
  close(): Promise<void>;
}

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
    return { kube, label: `context ${kube.context}`, settings: {}, close: async () => {} };
  }
  const { defaultStateDir, startSandbox } = await import("@clouddrove/sandbox");
  const stateDir = defaultStateDir(ctx.io.env);
  const sandbox = await startSandbox({ stateDir, speed: sandboxSpeed(ctx.io.env) });
  ctx.out.info(
    ctx.out.paint.yellow(
      `Using the sandbox: a simulated three-zone cluster and its AWS endpoint on this machine (no AWS account); state in ${stateDir}.`,
    ),
  );
  try {
    await useSandboxAws(ctx, sandbox.aws);
    const kube = await connectKube({
      env: ctx.io.env,
      signal: ctx.io.signal,
      kubeconfigText: sandbox.kubeconfig(),
    });
    return {
      kube,
      sandbox,
      settings: sandboxSettings(sandbox),
      label: "the sandbox (simulated)",
      // stop() saves the state for the next sandbox command.
      close: () => sandbox.stop(),
    };
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}

/**
 * The command's environment from now on has the sandbox's AWS endpoint, credentials and region (a
 * sandbox in this process, or one running in the background that published its `aws`).
 */
export async function useSandboxAws(
  ctx: CommandContext,
  aws: import("@clouddrove/sandbox").SandboxAws,
): Promise<void> {
  const { awsEnvironment } = await import("@clouddrove/sandbox");
  const env: NodeJS.ProcessEnv = { ...ctx.io.env };
  for (const [name, value] of Object.entries(awsEnvironment(aws))) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  ctx.io = { ...ctx.io, env };
}

/** The sandbox's cluster name and region, as flag values (commander's names) for resolving settings. */
export function sandboxSettings(sandbox: {
  clusterName: string;
  aws: { region: string };
}): Record<string, unknown> {
  return { clusterName: sandbox.clusterName, region: sandbox.aws.region };
}

/** The target's settings under the flags the user gave (commander leaves the others undefined). */
export function withTargetSettings(
  settings: Record<string, unknown> | undefined,
  flags: object,
): Record<string, unknown> {
  const given = Object.entries(flags).filter(([, value]) => value !== undefined);
  return { ...settings, ...Object.fromEntries(given) };
}
