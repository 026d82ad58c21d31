/**
 * Serving a state directory's cluster in this process: claim the directory, start the sandbox from its
 * saved state, write its kubeconfig beside the state, and record where it answers. `clouddrove sandbox
 * serve` runs this in the foreground; the daemon that `up` starts runs the same in the background.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { installEksAddons } from "../controllers/addons.js";
import { type Sandbox, type SandboxOptions, startSandbox } from "../index.js";
import { SANDBOX_CONTEXT } from "../kubeconfig.js";
import { stateFile } from "../persist.js";
import { kubeconfigFile, type OwnerRecord, readOwner, updateOwner } from "./owner.js";

export interface ServeOptions
  extends Pick<
    SandboxOptions,
    "port" | "nodes" | "zones" | "region" | "speed" | "kubernetesVersion" | "clusterName"
  > {
  stateDir: string;
  mode: OwnerRecord["mode"];
}

export interface Serving {
  sandbox: Sandbox;
  owner: OwnerRecord;
  /** The kubeconfig beside the state, with the context clouddrove-sandbox. */
  kubeconfig: string;
  /** Whether a saved cluster was resumed (else a new one was seeded). */
  resumed: boolean;
  /** Stops the cluster (saving its state) and gives up the directory. */
  stop(): Promise<void>;
}

/** The API port of the last run: a restart keeps it where it can, so kubeconfigs merged elsewhere stay valid. */
function lastPort(stateDir: string): number | undefined {
  try {
    const port = Number(readFileSync(join(stateDir, "api-port"), "utf8").trim());
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
  } catch {
    return undefined;
  }
}

async function startOnPreferredPort(
  options: SandboxOptions,
  preferred: number | undefined,
): Promise<Sandbox> {
  if (options.port !== undefined || preferred === undefined) return startSandbox(options);
  try {
    return await startSandbox({ ...options, port: preferred });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    return startSandbox(options);
  }
}

export async function serve(options: ServeOptions): Promise<Serving> {
  const { stateDir, mode, ...shape } = options;
  // Read before startSandbox claims the directory: whether a saved cluster resumes.
  const resumed = existsSync(stateFile(stateDir));
  const sandbox = await startOnPreferredPort({ ...shape, stateDir, ownerMode: mode }, lastPort(stateDir));
  const kubeconfig = kubeconfigFile(stateDir);
  try {
    // The cluster stands in for one `clouddrove cluster create` made on EKS, whose addons are always there
    // (network policy enforcement in the VPC CNI, the snapshot controller).
    await installEksAddons(sandbox);
    // Saved at once: the token and certificate the kubeconfig names survive a crash of this process.
    await sandbox.save();
    sandbox.writeKubeconfig(kubeconfig);
    writeFileSync(join(stateDir, "api-port"), `${new URL(sandbox.url).port}\n`);
    const owner = readOwner(stateDir);
    if (owner?.pid !== process.pid) throw new Error(`lost the ownership of ${stateDir}`);
    const ready: OwnerRecord = {
      ...owner,
      url: sandbox.url,
      kubeconfig,
      context: SANDBOX_CONTEXT,
      clusterName: sandbox.clusterName,
      aws: sandbox.aws,
    };
    updateOwner(stateDir, ready);
    let stopping: Promise<void> | undefined;
    return {
      sandbox,
      owner: ready,
      kubeconfig,
      resumed,
      stop: () => {
        stopping ??= sandbox.stop();
        return stopping;
      },
    };
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}
