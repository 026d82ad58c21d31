/**
 * Container probes performed against a real process: tcpSocket (the port accepts a connection) and
 * httpGet (an answer from 200 to 399), on 127.0.0.1 at the host port the container port maps to.
 *
 * The kubelet simulation asks "is this probe failing?" synchronously, on its own schedule in simulated
 * time; a real probe takes real time. So each process has a prober that keeps the latest result of each
 * of its probes fresh — every periodSeconds of simulated time, and every 50 ms of real time until the
 * process first answers — and tells the kubelet when a result changes, so the simulation's probe
 * schedule picks it up on its next period.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { SandboxClock } from "../types.js";

// biome-ignore lint/suspicious/noExplicitAny: probe specs are plain JSON
type Json = any;

export type ProbeKind = "readiness" | "liveness" | "startup";

export interface ProbeResult {
  ok: boolean;
  message: string;
}

/** The container port a probe names: a number, or the name of one of the container's ports. */
export function probePort(container: Json, port: number | string | undefined): number | undefined {
  if (typeof port === "number") return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return (container.ports ?? []).find((p: Json) => p.name === port)?.containerPort;
}

/** Whether the sandbox can perform this probe for real (exec and grpc probes stay simulated). */
export function isRealProbe(probe: Json): boolean {
  return Boolean(probe?.tcpSocket || probe?.httpGet);
}

/** Whether 127.0.0.1:port accepts a connection within `timeoutMs`. */
export function tcpProbe(port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, message: `dial tcp: i/o timeout` }));
    socket.once("connect", () => done({ ok: true, message: "" }));
    socket.once("error", (error) => done({ ok: false, message: error.message }));
  });
}

function httpProbe(spec: Json, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const https = String(spec.scheme ?? "HTTP").toUpperCase() === "HTTPS";
    const headers: Record<string, string> = {
      "User-Agent": "kube-probe/1.33",
      Accept: "*/*",
      // One connection per probe, as the kubelet does: no idle keep-alive left open to the registry.
      Connection: "close",
    };
    for (const header of spec.httpHeaders ?? []) headers[header.name] = header.value;
    const options = {
      host: "127.0.0.1",
      port,
      path: spec.path ?? "/",
      method: "GET",
      headers,
      timeout: timeoutMs,
      agent: false,
      // The kubelet does not verify a probe's certificate either.
      rejectUnauthorized: false,
    };
    const req = (https ? httpsRequest : httpRequest)(options, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(
        status >= 200 && status < 400
          ? { ok: true, message: "" }
          : { ok: false, message: `HTTP probe failed with statuscode: ${status}` },
      );
    });
    req.on("timeout", () => req.destroy(new Error("context deadline exceeded")));
    req.on("error", (error) => resolve({ ok: false, message: error.message }));
    req.end();
  });
}

/** Performs one probe now. `hostPort` maps a container port to the host (undefined: nothing listens). */
export async function probeOnce(
  container: Json,
  probe: Json,
  hostPort: (containerPort: number) => number | undefined,
): Promise<ProbeResult> {
  const action = probe.tcpSocket ?? probe.httpGet;
  const containerPort = probePort(container, action?.port);
  const port = containerPort === undefined ? undefined : hostPort(containerPort);
  if (port === undefined) {
    return { ok: false, message: `connect: connection refused (nothing listens on port ${action?.port})` };
  }
  const timeoutMs = Math.max(1, Number(probe.timeoutSeconds ?? 1)) * 1000;
  return probe.tcpSocket ? tcpProbe(port, timeoutMs) : httpProbe(probe.httpGet, port, timeoutMs);
}

const FAST_REAL_MS = 50;
/** How long a registry process may take to start, in real time, before it counts as not starting. */
export const STARTUP_REAL_MS = 10_000;

/** Keeps the results of a container's real probes fresh while its process runs. */
export class Prober {
  private readonly results = new Map<ProbeKind, ProbeResult>();
  private readonly answered = new Set<ProbeKind>();
  private readonly cancels: Array<() => void> = [];
  private stopped = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly clock: SandboxClock,
    private readonly container: Json,
    private readonly hostPort: (containerPort: number) => number | undefined,
    private readonly onChange: () => void,
  ) {
    for (const kind of ["startup", "readiness", "liveness"] as const) {
      const probe = container[`${kind}Probe`];
      if (isRealProbe(probe)) this.schedule(kind, probe, FAST_REAL_MS);
    }
  }

  /** The latest result; undefined before the first probe has finished. */
  result(kind: ProbeKind): ProbeResult | undefined {
    return this.results.get(kind);
  }

  /** Not answered yet, and still within the time a process may take to start. */
  stillStarting(kind: ProbeKind): boolean {
    return !this.answered.has(kind) && Date.now() - this.startedAt <= STARTUP_REAL_MS;
  }

  stop(): void {
    this.stopped = true;
    for (const cancel of this.cancels.splice(0)) cancel();
  }

  private schedule(kind: ProbeKind, probe: Json, realMs: number, simulatedMs?: number): void {
    if (this.stopped) return;
    let cancel: () => void;
    const run = () => {
      const index = this.cancels.indexOf(cancel);
      if (index >= 0) this.cancels.splice(index, 1);
      void this.probe(kind, probe);
    };
    if (simulatedMs === undefined) {
      const timer = setTimeout(run, realMs);
      timer.unref();
      cancel = () => clearTimeout(timer);
    } else {
      // On the probe's period in simulated time, but never more often than every FAST_REAL_MS of real
      // time (at a high speed factor a period passes in a millisecond).
      const started = Date.now();
      cancel = this.clock.after(simulatedMs, () => {
        const left = FAST_REAL_MS - (Date.now() - started);
        if (left <= 0) run();
        else this.schedule(kind, probe, left);
      });
    }
    this.cancels.push(cancel);
  }

  private async probe(kind: ProbeKind, probe: Json): Promise<void> {
    if (this.stopped) return;
    const result = await probeOnce(this.container, probe, this.hostPort);
    if (this.stopped) return;
    const previous = this.results.get(kind);
    this.results.set(kind, result);
    if (previous === undefined || previous.ok !== result.ok) this.onChange();
    // Fast while the process starts (until it has answered once, for at most STARTUP_REAL_MS), then on
    // the probe's period.
    if (result.ok) this.answered.add(kind);
    if (this.stillStarting(kind)) this.schedule(kind, probe, FAST_REAL_MS);
    else this.schedule(kind, probe, FAST_REAL_MS, (probe.periodSeconds ?? 10) * 1000);
  }
}
