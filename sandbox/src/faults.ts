/**
 * Injectable faults, for tests of clouddrove's retry and recovery paths: added latency, error answers
 * (500, 503, 429 with Retry-After, ...), connection resets, and watch streams cut after some events or
 * some time. Rules match requests by verb and by a regular expression on the URL path, for the next N
 * matching requests or with a probability. Reachable in-process (`sandbox.faults`) and over HTTP under
 * /sandbox/v1/faults.
 */

export type FaultAction =
  | { type: "error"; status: number; message?: string; retryAfterSeconds?: number }
  | { type: "reset" }
  | { type: "latency"; ms: number }
  | { type: "cutWatch"; afterEvents?: number; afterMs?: number; mode?: "end" | "reset" };

export interface FaultRule {
  /** Verbs as the API server names them: get, list, watch, create, update, patch, delete, deletecollection. */
  verbs?: string[];
  /** A regular expression matched against the URL path, e.g. "/pods/[^/]+/eviction$". */
  path?: string;
  action: FaultAction;
  /** Only for the next N matching requests (then the rule is spent); default: every one. */
  times?: number;
  /** Chance (0..1) that a matching request is affected; default 1. */
  probability?: number;
}

export interface ActiveFault extends FaultRule {
  id: string;
  /** Requests this rule has affected so far. */
  hits: number;
}

export interface FaultDecision {
  delayMs: number;
  error?: { status: number; message: string; retryAfterSeconds?: number };
  reset?: boolean;
  cutWatch?: { afterEvents?: number; afterMs?: number; mode: "end" | "reset" };
}

export interface FaultState {
  latencyMs: number;
  rules: ActiveFault[];
  requests: number;
}

const REASONS: Record<number, string> = {
  429: "TooManyRequests",
  500: "InternalError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "Timeout",
};

export function reasonForStatus(status: number): string {
  return REASONS[status] ?? "InternalError";
}

export class FaultInjector {
  private rules: ActiveFault[] = [];
  private nextId = 1;
  private requests = 0;
  /** Latency added to every request (besides latency rules). */
  latencyMs = 0;

  constructor(private readonly random: () => number = Math.random) {}

  add(rule: FaultRule): ActiveFault {
    if (rule.path !== undefined) new RegExp(rule.path); // fail early on a bad pattern
    const active: ActiveFault = { ...rule, id: String(this.nextId++), hits: 0 };
    this.rules.push(active);
    return active;
  }

  /** Removes one rule (by id) or all of them, and the added latency. */
  clear(id?: string): void {
    if (id === undefined) {
      this.rules = [];
      this.latencyMs = 0;
    } else this.rules = this.rules.filter((rule) => rule.id !== id);
  }

  state(): FaultState {
    return {
      latencyMs: this.latencyMs,
      rules: this.rules.map((rule) => ({ ...rule })),
      requests: this.requests,
    };
  }

  /** What should happen to one request. Spent rules are removed. */
  decide(verb: string, path: string): FaultDecision {
    this.requests++;
    const decision: FaultDecision = { delayMs: this.latencyMs };
    for (const rule of [...this.rules]) {
      if (rule.verbs && !rule.verbs.includes(verb) && !rule.verbs.includes("*")) continue;
      if (rule.path !== undefined && !new RegExp(rule.path).test(path)) continue;
      if (rule.action.type === "cutWatch" && verb !== "watch") continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      rule.hits++;
      if (rule.times !== undefined && rule.hits >= rule.times)
        this.rules = this.rules.filter((r) => r !== rule);
      const action = rule.action;
      switch (action.type) {
        case "latency":
          decision.delayMs += action.ms;
          break;
        case "reset":
          decision.reset ??= true;
          break;
        case "error":
          decision.error ??= {
            status: action.status,
            message: action.message ?? `injected fault: ${action.status} ${reasonForStatus(action.status)}`,
            retryAfterSeconds: action.retryAfterSeconds ?? (action.status === 429 ? 1 : undefined),
          };
          break;
        case "cutWatch":
          decision.cutWatch ??= {
            afterEvents: action.afterEvents,
            afterMs: action.afterMs,
            mode: action.mode ?? "end",
          };
          break;
      }
    }
    return decision;
  }
}
