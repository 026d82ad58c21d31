/**
 * The cluster a command works on, always reached through a kubeconfig: the one named by --kubeconfig and
 * --context (else the current context), or with --sandbox the sandbox's own kubeconfig and context —
 * started in the background first when it is not running, and said so. With --sandbox the command's
 * environment (ctx.io.env) also gets the sandbox's AWS environment, so the AWS adapters below reach the
 * sandbox's AWS endpoint exactly as they reach AWS; nothing below commands/ knows the sandbox.
 */
import type { Kube } from "../adapters/kube.js";
import { CredentialsError } from "../errors.js";
import type { CommandContext } from "./context.js";
import { loadSandboxPackage, type SandboxPackage, sandboxCall, sandboxSpeed } from "./sandbox-package.js";

export interface ClusterTarget {
  kube: Kube;
  /** How to name it to the user: the context, or "the sandbox (simulated)". */
  label: string;
  /**
   * Settings the target fixes, ranked like flags (a flag given still wins): for the sandbox its EKS
   * cluster's name and region, whatever clouddrove.yaml says about the real cluster.
   */
  settings: Record<string, unknown>;
  /** The flags a printed next step needs to reach the same cluster. */
  reach: { kubectl: string[]; clouddrove: string[] };
  /** Closes the connections the command kept alive; the cluster itself (the sandbox too) keeps running. */
  close(): Promise<void>;
}

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

type SandboxShape = Pick<
  Parameters<SandboxPackage["up"]>[0],
  "zones" | "nodes" | "kubernetesVersion" | "clusterName"
>;
type RunningSandbox = Awaited<ReturnType<typeof startOrFind>>;

/** Once per command: a command that reaches the bucket first and the cluster later asks once. */
const found = new WeakMap<CommandContext, Promise<RunningSandbox>>();

/**
 * The running sandbox (started in the background when it is not running), said so either way; from then
 * on the command's environment has the sandbox's AWS side (its endpoint, S3 and keys).
 */
export function runningSandbox(ctx: CommandContext, shape: SandboxShape = {}): Promise<RunningSandbox> {
  let running = found.get(ctx);
  if (!running) {
    running = startOrFind(ctx, shape);
    found.set(ctx, running);
  }
  return running;
}

async function startOrFind(ctx: CommandContext, shape: SandboxShape) {
  if (ctx.globals.kubeconfig || ctx.globals.context) {
    const { UsageError } = await import("../errors.js");
    throw new UsageError("--sandbox names the cluster already; --kubeconfig and --context name another.", {
      hint: "Pass either --sandbox, or --kubeconfig/--context (the sandbox's: `clouddrove sandbox status`).",
    });
  }
  const sandbox = await loadSandboxPackage();
  const stateDir = sandbox.defaultStateDir(ctx.io.env);
  const running = await sandboxCall(sandbox, () =>
    sandbox.up({ ...shape, stateDir, speed: sandboxSpeed(ctx.io.env), env: ctx.io.env }),
  );
  ctx.out.info(
    ctx.out.paint.yellow(
      running.started
        ? `Started the sandbox in the background (pid ${running.pid}; \`clouddrove sandbox down\` stops it): a simulated three-zone cluster and its AWS endpoint on this machine, no AWS account.`
        : `Using the sandbox (pid ${running.pid}): a simulated three-zone cluster and its AWS endpoint on this machine, no AWS account.`,
    ),
  );
  useSandboxAws(ctx, sandbox.awsEnvironment(running.aws));
  return { ...running, stateDir };
}

export async function openClusterTarget(
  ctx: CommandContext,
  options: { sandbox?: boolean },
): Promise<ClusterTarget> {
  const { connectKube } = await import("../adapters/connect.js");
  if (!options.sandbox) {
    const kube = await connectKube(kubeConnection(ctx)).catch((error) => {
      throw withSandboxHint(error);
    });
    const kubeconfig = ctx.globals.kubeconfig ? ["--kubeconfig", ctx.globals.kubeconfig] : [];
    const flags = [...kubeconfig, "--context", kube.context];
    return {
      kube,
      label: `context ${kube.context}`,
      settings: {},
      reach: { kubectl: flags, clouddrove: flags },
      close: async () => kube.http.close(),
    };
  }
  const running = await runningSandbox(ctx);
  const kube = await connectKube({
    kubeconfigPath: running.kubeconfig,
    context: running.context,
    env: ctx.io.env,
    signal: ctx.io.signal,
  });
  return {
    kube,
    label: "the sandbox (simulated)",
    settings: sandboxSettings(running),
    reach: {
      kubectl: ["--kubeconfig", running.kubeconfig, "--context", running.context],
      clouddrove: ["--sandbox"],
    },
    close: async () => kube.http.close(),
  };
}

/**
 * No kubeconfig at all is what a first run on this machine meets after trying the sandbox: the adapter's
 * hint cannot name the sandbox (nothing below commands/ knows it), so the command adds it.
 */
function withSandboxHint(error: unknown): unknown {
  if (!(error instanceof CredentialsError) || !error.message.startsWith("No kubeconfig found")) return error;
  return new CredentialsError(error.message, {
    cause: error,
    hint: `${error.hint ?? ""} For the sandbox on this machine, add --sandbox (e.g. \`clouddrove status --sandbox\`).`.trim(),
  });
}

/** From now on the command's environment has the sandbox's AWS endpoint, credentials and region. */
export function useSandboxAws(ctx: CommandContext, environment: Record<string, string | undefined>): void {
  const env: NodeJS.ProcessEnv = { ...ctx.io.env };
  for (const [name, value] of Object.entries(environment)) {
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
