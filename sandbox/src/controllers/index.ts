/**
 * The sandbox's simulated cluster behaviour: seeding an EKS-like cluster, starting the controllers
 * (scheduler, kubelets, workload, storage, service and node controllers) on a store and a clock, and
 * the outside operations tests and `--sandbox` use (node group upgrade, node readiness, probe failures).
 */
import type { SandboxRuntime } from "../runtime/index.js";
import type { ObjectStore, SandboxClock } from "../types.js";
import { startCronJobController } from "./cronjob.js";
import { startDaemonSetController } from "./daemonset.js";
import { startDeploymentController } from "./deployment.js";
import { startEndpointsController } from "./endpoints.js";
import { createEventRecorder } from "./events.js";
import { startJobController } from "./job.js";
import { startKubelet } from "./kubelet.js";
import { startNodeLifecycle } from "./node-lifecycle.js";
import { registerContext, unregisterContext } from "./operations.js";
import { startDisruptionController } from "./pdb.js";
import { startReplicaSetController } from "./replicaset.js";
import { type ControllerContext, type ControllerError, NameGenerator, recordError } from "./runtime.js";
import { startScheduler } from "./scheduler.js";
import { startSnapshotController } from "./snapshot.js";
import { startVolumeController } from "./volumes.js";

export type { NodeReplacement, SandboxContext } from "./operations.js";
export { checkNodegroupUpgrade, injectProbeFailure, setNodeReady, upgradeNodegroup } from "./operations.js";
export { SandboxAnnotations } from "./pod-runs.js";
export type { ControllerError } from "./runtime.js";
export { CLUSTER_INFO, clusterInfo, nodegroupName, type SeedOptions, seedCluster } from "./seed.js";

export interface RunningControllers {
  stop(): void;
  /** What the controllers failed at while reconciling (most recent last); empty when all is well. */
  readonly errors: readonly ControllerError[];
}

export function startControllers(context: {
  store: ObjectStore;
  clock: SandboxClock;
  seed?: number;
  /** Runs registry pods as real processes (kubelet) behind real proxies (service controller). */
  runtime?: SandboxRuntime;
}): RunningControllers {
  const ctx: ControllerContext = {
    store: context.store,
    clock: context.clock,
    names: new NameGenerator(context.seed ?? Math.floor(context.clock.now()) >>> 0),
    errors: [],
    cleanups: [],
    events: undefined as unknown as ControllerContext["events"],
  };
  ctx.events = createEventRecorder(context.store, context.clock, (error) =>
    recordError(ctx, "events", "", error),
  );
  ctx.cleanups.push(() => ctx.events.stop());
  registerContext(ctx);
  // Order matters only for the first pass over existing objects: storage before the scheduler, the
  // scheduler before the kubelets.
  startNodeLifecycle(ctx);
  startVolumeController(ctx);
  startSnapshotController(ctx);
  startScheduler(ctx);
  startKubelet(ctx, context.runtime?.processes);
  startReplicaSetController(ctx);
  startDeploymentController(ctx);
  startDaemonSetController(ctx);
  startJobController(ctx);
  startCronJobController(ctx);
  startDisruptionController(ctx);
  startEndpointsController(ctx, context.runtime);
  let stopped = false;
  return {
    errors: ctx.errors,
    stop() {
      if (stopped) return;
      stopped = true;
      unregisterContext(ctx);
      for (const cleanup of ctx.cleanups.splice(0).reverse()) cleanup();
    },
  };
}
