/**
 * The controllers' test bed without HTTP: a store seeded like a fresh EKS cluster made by clouddrove's
 * eksctl config (three eu-west-1 zones, Kubernetes 1.33), the controllers running on a manual clock that
 * moves only when the test advances it, and `until`, which advances it until a condition holds.
 */
import { afterEach, expect } from "vitest";
import { createClock, type ManualClock } from "../../src/clock.js";
import { type RunningControllers, seedCluster, startControllers } from "../../src/controllers/index.js";
import { MemoryStore } from "../../src/store.js";
import type { ObjectStore, SandboxClock } from "../../src/types.js";
import { TEST_ZONES } from "./sandbox.js";

export const SIMULATED_START = Date.parse("2025-06-01T10:00:00Z");

export interface SimulatedClusterOptions {
  /** Seeds the controllers' name generator: a file keeps its own, so the names it sees stay the same. */
  seed?: number;
  /** Simulated time at the start, ms since the epoch (default SIMULATED_START). */
  start?: number;
  nodes?: number;
  /** The worker nodes' kubelet minor, when it differs from the control plane's. */
  kubeletVersion?: string;
  /** The control plane's minor (default "1.33"). */
  kubernetesVersion?: string;
  /** The store's event history (for watches), when the default is too small for the test's load. */
  historyLimit?: number;
  /** The namespace the test works in, created once the controllers run (default "registry"). */
  namespace?: string;
}

export interface SimulatedCluster {
  clock: ManualClock & { stop(): void };
  store: MemoryStore;
  controllers: RunningControllers;
  /**
   * Advances in steps until `check` holds and returns the simulated ms that took; fails after `limitMs`
   * of simulated time.
   */
  until(check: () => boolean, limitMs?: number, stepMs?: number): Promise<number>;
  stop(): void;
}

/** Seeds `store` with the nodes and add-ons of a fresh cluster, spread over the three test zones. */
export function seedTestCluster(
  store: ObjectStore,
  clock: SandboxClock,
  options: { nodes?: number; kubeletVersion?: string; kubernetesVersion?: string } = {},
): void {
  seedCluster(store, clock, {
    nodes: options.nodes ?? 3,
    zones: TEST_ZONES,
    region: "eu-west-1",
    kubernetesVersion: options.kubernetesVersion ?? "1.33",
    ...(options.kubeletVersion ? { kubeletVersion: options.kubeletVersion } : {}),
  });
}

export function startSimulatedCluster(options: SimulatedClusterOptions = {}): SimulatedCluster {
  const clock = createClock({ manual: true, start: options.start ?? SIMULATED_START }) as ManualClock & {
    stop(): void;
  };
  const store = new MemoryStore({ clock, historyLimit: options.historyLimit });
  seedTestCluster(store, clock, options);
  const controllers = startControllers({ store, clock, seed: options.seed });
  store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: options.namespace ?? "registry" } });
  const until = async (check: () => boolean, limitMs = 300_000, stepMs = 1_000) => {
    for (let waited = 0; waited <= limitMs; waited += stepMs) {
      if (check()) return waited;
      await clock.advance(stepMs);
    }
    throw new Error(`not reached within ${limitMs / 1000}s of simulated time`);
  };
  return {
    clock,
    store,
    controllers,
    until,
    stop() {
      controllers.stop();
      clock.stop();
    },
  };
}

/**
 * For a file whose tests each start one cluster: returns the function that starts it (with the file's
 * defaults), and after each test checks that the controllers reported no errors and stops the cluster.
 */
export function simulatedClusterPerTest(
  defaults: SimulatedClusterOptions = {},
): (options?: SimulatedClusterOptions) => SimulatedCluster {
  let current: SimulatedCluster | undefined;
  afterEach(() => {
    const cluster = current;
    current = undefined;
    if (!cluster) return;
    try {
      expect(cluster.controllers.errors).toEqual([]);
    } finally {
      cluster.stop();
    }
  });
  return (options = {}) => {
    current = startSimulatedCluster({ ...defaults, ...options });
    return current;
  };
}
