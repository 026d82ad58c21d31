/**
 * The registry's availability during an upgrade, measured by a watch on its Deployment for the whole run:
 * the fewest ready replicas seen, the seconds with none ready (an outage) and with fewer than desired.
 * A watch, not a poll, so every change of readyReplicas is seen.
 */

import type { V1Deployment } from "@kubernetes/client-node";
import type { Kube } from "../../adapters/kube.js";
import { waitUntil } from "../../adapters/kube-watch.js";
import { names } from "../../core/render/names.js";
import type { Availability } from "../../core/upgrade/report.js";
import { InterruptedError } from "../../errors.js";

export interface AvailabilityWatcher {
  /** Stops the watch and returns what it measured. */
  stop(): Promise<Availability>;
}

export function watchAvailability(
  kube: Kube,
  namespace: string,
  options: { signal?: AbortSignal; stats?: { lists: number; watches: number } } = {},
): AvailabilityWatcher {
  const stopper = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stopper.signal]) : stopper.signal;
  let min: number | null = null;
  let unavailableMs = 0;
  let degradedMs = 0;
  let last: { at: number; ready: number; desired: number } | undefined;
  let failed: string | undefined;
  const account = (now: number) => {
    if (!last) return;
    const elapsed = now - last.at;
    if (last.ready === 0) unavailableMs += elapsed;
    if (last.ready < last.desired) degradedMs += elapsed;
  };
  const sample = (deployment: V1Deployment | undefined) => {
    if (!deployment) return;
    const now = Date.now();
    account(now);
    const ready = deployment.status?.readyReplicas ?? 0;
    const desired = deployment.spec?.replicas ?? 0;
    min = min === null ? ready : Math.min(min, ready);
    last = { at: now, ready, desired };
  };
  const running = waitUntil<V1Deployment>(
    kube,
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      namespace,
      fieldSelector: `metadata.name=${names.deployment}`,
    },
    () => false,
    {
      // Until stopped: the run's own deadlines bound it.
      timeoutMs: 7 * 24 * 3600 * 1000,
      signal,
      stats: options.stats,
      onChange: ([deployment]) => sample(deployment),
    },
  ).catch((error) => {
    // The measurement must never fail the upgrade; a watch that gave up just stops sampling.
    if (!(error instanceof InterruptedError)) failed = (error as Error).message;
  });
  return {
    async stop() {
      stopper.abort();
      await running;
      account(Date.now());
      if (last) last.at = Date.now();
      return {
        minReadyReplicas: min,
        unavailableSeconds: Math.round(unavailableMs / 100) / 10,
        degradedSeconds: Math.round(degradedMs / 100) / 10,
        ...(failed ? { note: `the watch stopped early: ${failed}` } : {}),
      };
    },
  };
}
