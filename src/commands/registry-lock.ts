/**
 * Every command that changes the registry (deploy, upgrade with --resume/--rollback, backup restore and
 * now; garbage collection when it comes) runs inside the registry's lock: a second run at the same time
 * waits (--wait-for-lock, timeouts.lock) or refuses with exit 2 naming who holds it. Dry runs change
 * nothing and take no lock.
 */
import type { Config } from "../config/schema.js";
import type { CommandContext } from "./context.js";

type Kube = import("../adapters/kube.js").Kube;

/** user@host, as far as the machine tells. */
async function whoRuns(env: NodeJS.ProcessEnv): Promise<string> {
  const { hostname, userInfo } = await import("node:os");
  let user = env.USER ?? env.USERNAME ?? "unknown";
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the environment's name stands.
  }
  return `${user}@${hostname()}`;
}

/**
 * A first deploy: the namespace to create (the rendered one) when it does not exist, so that the lock
 * can live in it; `wroteAnything` tells, when the deploy failed, whether more than the namespace was
 * written (if not, the namespace it created is removed again: a refused deploy leaves the cluster as it was).
 */
export interface FirstDeploy {
  namespace: import("@kubernetes/client-node").V1Namespace;
  wroteAnything: () => boolean;
  /** Told, before the work starts, whether this run created the namespace. */
  created: (created: boolean) => void;
}

/** Runs `work` holding the registry's lock in `config.namespace`; frees it however `work` ends. */
export async function withRegistryLock<T>(
  ctx: CommandContext,
  kube: Kube,
  config: Config,
  command: string,
  work: () => Promise<T>,
  firstDeploy?: FirstDeploy,
): Promise<T> {
  const { randomBytes } = await import("node:crypto");
  const { parseDurationMs } = await import("../core/validators.js");
  const { acquireLock } = await import("../steps/lock.js");
  const who = await whoRuns(ctx.io.env);
  const waitText = config.timeouts.lock;
  const lock = await acquireLock(
    kube,
    config.namespace,
    {
      who,
      pid: process.pid,
      command,
      identity: `${who}/${process.pid}/${randomBytes(4).toString("hex")}`,
    },
    {
      waitMs: parseDurationMs(waitText),
      waitText,
      signal: ctx.io.signal,
      onWait: (message) => ctx.out.info(message),
      onNotice: (message) => ctx.out.warn(message),
      createNamespace: firstDeploy?.namespace,
    },
  );
  firstDeploy?.created(lock.createdNamespace);
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await lock.release({ removeNamespace: firstDeploy ? !firstDeploy.wroteAnything() : false });
    throw error;
  }
  await lock.release();
  return result;
}
