/**
 * `clouddrove sandbox serve`: the simulated three-zone cluster on 127.0.0.1 until Ctrl-C (then its state
 * is saved for the next command); `clouddrove sandbox reset`: start it over.
 */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";

export interface SandboxServeFlags {
  port?: string;
  nodes?: string;
  zones?: string;
  speed?: string;
}

export function registerSandbox(program: Command, io: AppIO, state: RunState): void {
  const sandbox = program
    .command("sandbox")
    .description(
      "a simulated three-zone EKS-like cluster on this machine (no AWS; registry pods run the real docker-registry)",
    );
  sandbox
    .command("serve")
    .description(
      "serve the sandbox's Kubernetes API on 127.0.0.1 and write a kubeconfig context clouddrove-sandbox; Ctrl-C stops it and saves its state",
    )
    .option("--port <n>", "port on 127.0.0.1 (default: a free one)")
    .option("--nodes <n>", "worker nodes of a new sandbox (default 3)")
    .option(
      "--zones <a,b,c>",
      "availability zones of a new sandbox (default eu-west-1a,eu-west-1b,eu-west-1c)",
    )
    .option("--speed <n>", "simulated seconds per real second (default 1)")
    .action(async (flags: SandboxServeFlags, command: Command) => {
      await serveSandbox(createContext(io, command, state), flags);
    });
  sandbox
    .command("reset")
    .description(
      "delete the sandbox's saved state and its volumes' data (the next sandbox command starts a new cluster)",
    )
    .action(async (_flags: unknown, command: Command) => {
      await resetSandbox(createContext(io, command, state));
    });
}

function integerFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`--${name} ${value} is not a whole number from ${min} to ${max}.`, {
      hint: `Pass --${name} with a value from ${min} to ${max}.`,
    });
  }
  return parsed;
}

async function parseServeFlags(flags: SandboxServeFlags) {
  const { availabilityZone } = await import("../core/validators.js");
  const zones = flags.zones
    ?.split(",")
    .map((z) => z.trim())
    .filter((z) => z !== "");
  for (const zone of zones ?? []) {
    const problem = availabilityZone(zone);
    if (problem)
      throw new UsageError(`--zones: "${zone}" is not ${problem}.`, {
        hint: "Pass --zones eu-west-1a,eu-west-1b,eu-west-1c.",
      });
  }
  const regions = new Set((zones ?? []).map((z) => z.slice(0, -1)));
  if (regions.size > 1) {
    throw new UsageError(`--zones names zones of several regions (${[...regions].join(", ")}).`, {
      hint: "An EKS cluster lives in one region: pass zones of one region only.",
    });
  }
  const speed = flags.speed === undefined ? undefined : Number(flags.speed);
  if (speed !== undefined && !(Number.isFinite(speed) && speed > 0)) {
    throw new UsageError(`--speed ${flags.speed} is not a positive number.`, {
      hint: "Pass --speed 1 for real time, 60 for a minute per second.",
    });
  }
  return {
    port: integerFlag("port", flags.port, 1, 65535),
    nodes: integerFlag("nodes", flags.nodes, 1, 200),
    zones,
    region: zones?.[0]?.slice(0, -1),
    speed,
  };
}

function waitForStop(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.removeListener("SIGTERM", done);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    if (signal?.aborted) return resolve();
    signal?.addEventListener("abort", done, { once: true });
    process.once("SIGTERM", done);
  });
}

export async function serveSandbox(ctx: CommandContext, flags: SandboxServeFlags): Promise<void> {
  const options = await parseServeFlags(flags);
  const { join } = await import("node:path");
  const { defaultStateDir, SANDBOX_CONTEXT, startSandbox } = await import("@clouddrove/sandbox");
  const { loadState } = await import("@clouddrove/sandbox");
  const stateDir = defaultStateDir(ctx.io.env);
  const resuming = (await loadState(stateDir)) !== undefined;
  if (resuming && (options.nodes !== undefined || options.zones !== undefined)) {
    ctx.out.warn(
      `--nodes and --zones shape a new sandbox; resuming the one saved in ${stateDir} as it is (run \`clouddrove sandbox reset\` to start over).`,
    );
  }
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({ ...options, stateDir });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new UsageError(`Port ${options.port} on 127.0.0.1 is already in use.`, {
        hint: "Pass another --port, or leave it out to use a free one.",
      });
    }
    throw error;
  }
  const kubeconfigPath = ctx.globals.kubeconfig ?? join(stateDir, "kubeconfig");
  try {
    sandbox.writeKubeconfig(kubeconfigPath);
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
  const nodes = sandbox.store.list("Node");
  const zones = [
    ...new Set(nodes.map((n) => n.metadata.labels?.["topology.kubernetes.io/zone"]).filter(Boolean)),
  ];
  ctx.out.info(
    ctx.out.paint.yellow(
      "This cluster is simulated: no AWS. Its scheduler, kubelet and controllers are simulations; registry pods run " +
        "the real docker-registry binary (when installed) on its simulated volumes, other containers only pretend to run.",
    ),
  );
  ctx.out.success(
    `${resuming ? "Resumed" : "Started"} the sandbox at ${sandbox.url}: ${nodes.length} node(s) in ${zones.length} zone(s), Kubernetes ${sandbox.kubernetesVersion}.`,
  );
  const usage = [
    `Kubeconfig context ${SANDBOX_CONTEXT} written to ${kubeconfigPath}.`,
    "Try:",
    `  kubectl --kubeconfig ${kubeconfigPath} --context ${SANDBOX_CONTEXT} get nodes -L topology.kubernetes.io/zone`,
    "Press Ctrl-C to stop; the state is saved for the next sandbox command.",
  ].join("\n");
  await ctx.out.result(
    {
      url: sandbox.url,
      context: SANDBOX_CONTEXT,
      kubeconfig: kubeconfigPath,
      stateDir,
      nodes: nodes.length,
      zones,
      simulated: true,
    },
    () => usage,
  );
  await waitForStop(ctx.io.signal);
  await sandbox.stop();
  ctx.out.success(`Stopped the sandbox; its state is saved in ${stateDir}.`);
}

export async function resetSandbox(ctx: CommandContext): Promise<void> {
  const { join } = await import("node:path");
  const { readdir, rm } = await import("node:fs/promises");
  const { defaultStateDir } = await import("@clouddrove/sandbox");
  const { resetState } = await import("@clouddrove/sandbox");
  const stateDir = defaultStateDir(ctx.io.env);
  // The simulated volumes hold what was pushed to the sandbox's registry: deleting them is a data delete,
  // so it is confirmed like one.
  const volumes = join(stateDir, "volumes");
  const hasData = (await readdir(volumes).catch(() => [])).length > 0;
  if (hasData && !ctx.globals.yes) {
    if (!ctx.interactive) {
      throw new UsageError(`The sandbox's volumes in ${volumes} hold data; reset did not delete anything.`, {
        hint: "Pass --yes to delete the sandbox's state and its volumes' data.",
      });
    }
    const confirmed = await ctx.prompter.confirm({
      message: `Delete the sandbox, including the registry data on its volumes (${volumes})?`,
      default: false,
    });
    if (!confirmed) {
      ctx.out.info("Nothing deleted.");
      return;
    }
  }
  const had = await resetState(stateDir);
  // Its token and certificate die with the state, so the kubeconfig written beside it goes too.
  await rm(join(stateDir, "kubeconfig"), { force: true });
  await rm(volumes, { recursive: true, force: true });
  const message = had
    ? `Deleted the sandbox state${hasData ? " and its volumes' data" : ""} in ${stateDir}; the next sandbox command starts a new cluster.`
    : `There was no sandbox state in ${stateDir}.`;
  await ctx.out.result({ stateDir, deleted: had, volumesDeleted: hasData }, () => message);
}
