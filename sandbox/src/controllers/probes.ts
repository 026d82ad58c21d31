/**
 * Container probes on the kubelet's schedule: the first at initialDelaySeconds, then every
 * periodSeconds; readiness flips after failureThreshold failures / successThreshold successes; a
 * liveness or startup probe that fails failureThreshold times in a row gets the container killed.
 * Probes succeed unless a failure is injected, so a ready container with nothing injected is not probed
 * at all (nothing would change): probing resumes, on the same period, when a failure is injected.
 */
import { type ProbeKind, probeMessage, type Run, type SimEnv } from "./pod-runs.js";

/** The first probe time of `kind` at or after `from`, on the probe's period since the container started. */
export function alignedProbeTime(run: Run, kind: "readiness" | "liveness", from: number): number {
  const probe = run.spec[`${kind}Probe`];
  const first = (run.startupPassedAt ?? run.startedAt ?? from) + (probe?.initialDelaySeconds ?? 0) * 1000;
  const period = (probe?.periodSeconds ?? 10) * 1000;
  if (from <= first) return first;
  return first + Math.ceil((from - first) / period) * period;
}

/** The startup probe passed (or there is none): readiness and liveness probing begins. */
export function startupPassed(run: Run, at: number, env: SimEnv): void {
  run.startupPassedAt = at;
  run.probes.startup.nextAt = undefined;
  const readiness = run.spec.readinessProbe;
  if (readiness) run.probes.readiness.nextAt = at + (readiness.initialDelaySeconds ?? 0) * 1000;
  else run.ready = true;
  if (run.spec.livenessProbe && env.failing(run.name, "liveness")) {
    run.probes.liveness.nextAt = alignedProbeTime(run, "liveness", at);
  }
}

/** Failures injected (or lifted) since the last look start probing again, on the probe's period. */
export function refreshProbes(runs: readonly Run[], env: SimEnv): void {
  for (const run of runs) {
    if (run.state !== "running" || run.startupPassedAt === undefined) continue;
    if (
      run.spec.livenessProbe &&
      run.probes.liveness.nextAt === undefined &&
      env.failing(run.name, "liveness")
    ) {
      run.probes.liveness.nextAt = alignedProbeTime(run, "liveness", env.now);
    }
    if (
      run.spec.readinessProbe &&
      run.probes.readiness.nextAt === undefined &&
      (env.failing(run.name, "readiness") || !run.ready)
    ) {
      run.probes.readiness.nextAt = alignedProbeTime(run, "readiness", env.now);
    }
  }
}

export interface ProbeContext {
  fieldPath: string;
  podIP?: string;
  /** Kills the container (the pod's restart policy decides what follows). */
  kill(): void;
}

/** One probe of `kind` at `at`: counts, events, readiness, kills, and the next probe time. */
export function runProbe(run: Run, kind: ProbeKind, at: number, env: SimEnv, probe: ProbeContext): void {
  const spec = run.spec[`${kind}Probe`] ?? {};
  const state = run.probes[kind];
  const period = (spec.periodSeconds ?? 10) * 1000;
  const failing = env.failing(run.name, kind);
  if (failing) {
    state.failures++;
    state.successes = 0;
    env.event("Warning", "Unhealthy", probeMessage(kind, spec, probe.podIP), probe.fieldPath);
  } else {
    state.successes++;
    state.failures = 0;
  }
  const threshold = spec.failureThreshold ?? 3;
  switch (kind) {
    case "startup":
      if (!failing) startupPassed(run, at, env);
      else if (state.failures >= threshold) {
        env.event(
          "Normal",
          "Killing",
          `Container ${run.name} failed startup probe, will be restarted`,
          probe.fieldPath,
        );
        probe.kill();
      } else state.nextAt = at + period;
      return;
    case "readiness":
      if (failing && run.ready && state.failures >= threshold) run.ready = false;
      if (!failing && !run.ready && state.successes >= (spec.successThreshold ?? 1)) run.ready = true;
      state.nextAt = failing || !run.ready ? at + period : undefined;
      return;
    case "liveness":
      if (!failing) {
        state.nextAt = undefined;
        return;
      }
      if (state.failures >= threshold) {
        env.event(
          "Normal",
          "Killing",
          `Container ${run.name} failed liveness probe, will be restarted`,
          probe.fieldPath,
        );
        probe.kill();
        return;
      }
      state.nextAt = at + period;
      return;
  }
}
