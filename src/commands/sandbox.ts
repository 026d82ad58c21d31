/**
 * `clouddrove sandbox up | down | status | logs | serve | reset`: the simulated three-zone cluster as a
 * cluster you point at, like kind. `up` starts it in the background and writes the kubeconfig context
 * clouddrove-sandbox; every other command reaches it through that kubeconfig (`--sandbox` is a shortcut
 * for it). The sandbox is its own package, loaded only here and by `--sandbox`.
 */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import { loadSandboxPackage, type SandboxPackage, sandboxCall, sandboxSpeed } from "./sandbox-package.js";

export interface SandboxShapeFlags {
  port?: string;
  nodes?: string;
  zones?: string;
  speed?: string;
}

export interface SandboxUpFlags extends SandboxShapeFlags {
  mergeKubeconfig?: boolean;
}

function shapeOptions(command: Command): Command {
  return command
    .option("--port <n>", "API server port on 127.0.0.1 (default: the last one, else a free one)")
    .option("--nodes <n>", "worker nodes of a new sandbox (default 3)")
    .option(
      "--zones <a,b,c>",
      "availability zones of a new sandbox (default eu-west-1a,eu-west-1b,eu-west-1c)",
    )
    .option("--speed <n>", "simulated seconds per real second (default 50, or CLOUDDROVE_SANDBOX_SPEED)");
}

export function registerSandbox(program: Command, io: AppIO, state: RunState): void {
  const sandbox = program
    .command("sandbox")
    .description(
      "a simulated three-zone EKS-like cluster on this machine, run in the background like kind (no AWS; registry pods run the real docker-registry)",
    );
  shapeOptions(
    sandbox
      .command("up")
      .description(
        "start the sandbox in the background (or find it running), write its kubeconfig context clouddrove-sandbox, and say how to use it",
      ),
  )
    .option(
      "--merge-kubeconfig",
      "also add the context to your kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config)",
    )
    .action(async (flags: SandboxUpFlags, command: Command) => {
      await sandboxUp(createContext(io, command, state), flags);
    });
  sandbox
    .command("down")
    .description("stop the sandbox and every process it started; its state and data are kept")
    .action(async (_flags: unknown, command: Command) => {
      await sandboxDown(createContext(io, command, state));
    });
  sandbox
    .command("status")
    .description(
      "whether the sandbox runs: pid, API address, kubeconfig, nodes (exit 1 when it does not run)",
    )
    .action(async (_flags: unknown, command: Command) => {
      await sandboxStatus(createContext(io, command, state));
    });
  sandbox
    .command("logs")
    .description("the background sandbox's log")
    .option("--tail <n>", "only the last N lines")
    .action(async (flags: { tail?: string }, command: Command) => {
      await sandboxLogs(createContext(io, command, state), flags);
    });
  shapeOptions(
    sandbox
      .command("serve")
      .description("run the sandbox in the foreground until Ctrl-C (then its state is saved)"),
  ).action(async (flags: SandboxShapeFlags, command: Command) => {
    await serveSandbox(createContext(io, command, state), flags);
  });
  sandbox
    .command("reset")
    .description(
      "delete the sandbox's saved state and its volumes' data (the next `sandbox up` starts a new cluster); refused while it runs",
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

async function parseShapeFlags(flags: SandboxShapeFlags, env: NodeJS.ProcessEnv) {
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
    speed: speed ?? sandboxSpeed(env),
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

/** The kubeconfig `--merge-kubeconfig` writes into: --kubeconfig, else KUBECONFIG's first file, else ~/.kube/config. */
/** The kubeconfig `--merge-kubeconfig` writes to: --kubeconfig, else the first file kubectl would read. */
async function userKubeconfig(ctx: CommandContext): Promise<string> {
  if (ctx.globals.kubeconfig) return ctx.globals.kubeconfig;
  const { defaultKubeconfigPaths } = await import("../core/kubeconfig-paths.js");
  const [first] = defaultKubeconfigPaths(ctx.io.env);
  if (first === undefined) {
    throw new UsageError("No home directory to write a kubeconfig in (HOME is not set).", {
      hint: "Pass --kubeconfig PATH, or set KUBECONFIG.",
    });
  }
  return first;
}

function usageLines(kubeconfig: string, context: string): string[] {
  return [
    "Use it:",
    `  export KUBECONFIG=${kubeconfig}                      # or pass --kubeconfig ${kubeconfig} --context ${context}`,
    `  kubectl --kubeconfig ${kubeconfig} --context ${context} get nodes -L topology.kubernetes.io/zone`,
    "  clouddrove deploy --sandbox --yes                     # --sandbox is short for that kubeconfig and context",
    "Stop it with `clouddrove sandbox down` (state and data are kept); its log: `clouddrove sandbox logs`.",
  ];
}

function zonesOf(nodes: ReadonlyArray<{ zone: string }>): string[] {
  return [...new Set(nodes.map((node) => node.zone).filter((zone) => zone !== ""))];
}

export async function sandboxUp(ctx: CommandContext, flags: SandboxUpFlags): Promise<void> {
  const options = await parseShapeFlags(flags, ctx.io.env);
  const sandbox = await loadSandboxPackage();
  const stateDir = sandbox.defaultStateDir(ctx.io.env);
  const running = await sandboxCall(sandbox, () => sandbox.up({ ...options, stateDir, env: ctx.io.env }));
  if (!running.started && (options.nodes !== undefined || options.zones !== undefined)) {
    ctx.out.warn(
      "--nodes and --zones shape a new sandbox; this one was already running and is used as it is.",
    );
  }
  const status = await sandboxCall(sandbox, () => sandbox.status(stateDir));
  const nodes = status.running ? status.nodes : [];
  let merged: string | undefined;
  if (flags.mergeKubeconfig) {
    merged = await userKubeconfig(ctx);
    const target = merged;
    await sandboxCall(sandbox, () => sandbox.mergeKubeconfig(stateDir, target));
  }
  const headline = running.started
    ? `Started the sandbox (pid ${running.pid}) at ${running.url}: ${nodes.length} node(s) in ${zonesOf(nodes).length} zone(s).`
    : `The sandbox is already running (pid ${running.pid}) at ${running.url}.`;
  await ctx.out.result(
    {
      running: true,
      started: running.started,
      pid: running.pid,
      url: running.url,
      kubeconfig: running.kubeconfig,
      context: running.context,
      mergedInto: merged ?? null,
      stateDir,
      logFile: running.logFile,
      nodes,
    },
    () =>
      [
        headline,
        `Kubeconfig context ${running.context} written to ${running.kubeconfig}${merged ? ` and merged into ${merged}` : ""}.`,
        ...usageLines(running.kubeconfig, running.context),
      ].join("\n"),
  );
}

export async function sandboxDown(ctx: CommandContext): Promise<void> {
  const sandbox = await loadSandboxPackage();
  const stateDir = sandbox.defaultStateDir(ctx.io.env);
  const result = await sandboxCall(sandbox, () => sandbox.down(stateDir));
  await ctx.out.result(
    { stopped: result.stopped !== undefined, pid: result.stopped ?? null, stateDir },
    () =>
      result.stopped === undefined
        ? "The sandbox is not running."
        : `Stopped the sandbox (pid ${result.stopped}); its state and data are kept in ${stateDir}.`,
  );
}

export async function sandboxStatus(ctx: CommandContext): Promise<void> {
  const sandbox = await loadSandboxPackage();
  const stateDir = sandbox.defaultStateDir(ctx.io.env);
  const status = await sandboxCall(sandbox, () => sandbox.status(stateDir));
  if (!status.running) {
    ctx.state.exitCode = 1;
    await ctx.out.result(status, () =>
      [
        `The sandbox is not running${status.saved ? ` (a saved cluster is in ${stateDir})` : ""}.`,
        "Start it with `clouddrove sandbox up`.",
      ].join("\n"),
    );
    return;
  }
  await ctx.out.result(status, () =>
    [
      `The sandbox is running (pid ${status.pid}, since ${status.startedAt}) at ${status.url}.`,
      `Kubeconfig: ${status.kubeconfig} (context ${status.context})`,
      `Nodes (${status.nodes.length} in ${zonesOf(status.nodes).length} zones):`,
      ...status.nodes.map(
        (node) =>
          `  ${node.name}  ${node.zone}  ${node.ready ? "Ready" : "NotReady"}  ${node.kubeletVersion}`,
      ),
      `Log: ${status.logFile}`,
    ].join("\n"),
  );
}

export async function sandboxLogs(ctx: CommandContext, flags: { tail?: string }): Promise<void> {
  const tail = integerFlag("tail", flags.tail, 1, 1_000_000);
  const sandbox = await loadSandboxPackage();
  const path = sandbox.logFile(sandbox.defaultStateDir(ctx.io.env));
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new UsageError(`There is no sandbox log at ${path}.`, {
      hint: "The log is written by a sandbox started with `clouddrove sandbox up`.",
    });
  }
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  ctx.out.stdout(`${(tail === undefined ? lines : lines.slice(-tail)).join("\n")}\n`);
}

export async function serveSandbox(ctx: CommandContext, flags: SandboxShapeFlags): Promise<void> {
  const options = await parseShapeFlags(flags, ctx.io.env);
  const sandbox = await loadSandboxPackage();
  const stateDir = sandbox.defaultStateDir(ctx.io.env);
  let serving: Awaited<ReturnType<SandboxPackage["serve"]>>;
  try {
    serving = await sandboxCall(sandbox, () => sandbox.serve({ ...options, stateDir, mode: "foreground" }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new UsageError(`Port ${options.port} on 127.0.0.1 is already in use.`, {
        hint: "Pass another --port, or leave it out to use a free one.",
      });
    }
    throw error;
  }
  if (serving.resumed && (options.nodes !== undefined || options.zones !== undefined)) {
    ctx.out.warn(
      `--nodes and --zones shape a new sandbox; resumed the one saved in ${stateDir} as it is (run \`clouddrove sandbox reset\` to start over).`,
    );
  }
  const nodes = serving.sandbox.store.list("Node");
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
    `${serving.resumed ? "Resumed" : "Started"} the sandbox at ${serving.sandbox.url}: ${nodes.length} node(s) in ${zones.length} zone(s), Kubernetes ${serving.sandbox.kubernetesVersion}.`,
  );
  let kubeconfig = serving.kubeconfig;
  if (ctx.globals.kubeconfig) {
    kubeconfig = ctx.globals.kubeconfig;
    serving.sandbox.writeKubeconfig(kubeconfig);
  }
  await ctx.out.result(
    {
      url: serving.sandbox.url,
      pid: process.pid,
      context: serving.owner.context,
      kubeconfig,
      stateDir,
      nodes: nodes.length,
      zones,
      simulated: true,
    },
    () =>
      [
        `Kubeconfig context ${serving.owner.context} written to ${kubeconfig}.`,
        ...usageLines(kubeconfig, serving.owner.context ?? "clouddrove-sandbox").slice(0, -1),
        "Press Ctrl-C to stop; the state is saved for the next run.",
      ].join("\n"),
  );
  await waitForStop(ctx.io.signal);
  await serving.stop();
  ctx.out.success(`Stopped the sandbox; its state is saved in ${stateDir}.`);
}

export async function resetSandbox(ctx: CommandContext): Promise<void> {
  const { join } = await import("node:path");
  const { readdir, rm } = await import("node:fs/promises");
  const sandbox = await loadSandboxPackage();
  const stateDir = sandbox.defaultStateDir(ctx.io.env);
  const owner = sandbox.liveOwner(stateDir);
  if (owner) {
    throw new UsageError(`The sandbox is running (pid ${owner.pid}); reset deleted nothing.`, {
      hint: "Stop it first with `clouddrove sandbox down`.",
    });
  }
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
  const had = await sandboxCall(sandbox, () => sandbox.reset(stateDir));
  // Its token and certificate die with the state, so the kubeconfig written beside it goes too.
  await rm(join(stateDir, "kubeconfig"), { force: true });
  await rm(join(stateDir, "api-port"), { force: true });
  await rm(volumes, { recursive: true, force: true });
  const message = had
    ? `Deleted the sandbox state${hasData ? " and its volumes' data" : ""} in ${stateDir}; the next \`sandbox up\` starts a new cluster.`
    : `There was no sandbox state in ${stateDir}.`;
  await ctx.out.result({ stateDir, deleted: had, volumesDeleted: hasData }, () => message);
}
