/**
 * What a failed Kubernetes API call means, in one place: the HTTP status and the Kubernetes Status the
 * server answered (or the network error), whether it is worth retrying, and the project's typed error
 * (src/errors.ts) with a hint that the user finally sees. Every call in the adapters goes through
 * kube.ts `request`, which uses these.
 */
import { ClouddroveError, CredentialsError, OperationError } from "../errors.js";
import { KubeApiError } from "./kube-http.js";
import type { RetryOutcome, Verdict } from "./kube-retry.js";

/** A failed call as the server (or the network) put it. */
export interface KubeFailure {
  /** The HTTP status; undefined for a network failure. */
  status?: number;
  /** The Kubernetes Status reason (NotFound, Conflict, TooManyRequests, …), when the server sent one. */
  reason?: string;
  /** The Status message, or the error's. */
  message: string;
  /** Retry-After, in ms (sent with 429 and 503). */
  retryAfterMs?: number;
  /** The network error code (ECONNRESET, ECONNREFUSED, …) for a failure without an answer. */
  network?: string;
}

/** Connections cut while a call was under way: retried. */
const CUT_CODES = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "UND_ERR_SOCKET"]);
/**
 * No connection: retried only once the server has answered this process before (an API server restarting
 * refuses connections for a moment); before that, the cluster is not reachable and waiting will not help.
 */
const REFUSED_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH"]);
const UNREACHABLE_CODES = new Set([...REFUSED_CODES, "ENOTFOUND", "CERT_HAS_EXPIRED"]);

function networkCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown }; errno?: unknown };
  for (const code of [e?.code, e?.cause?.code, e?.errno]) if (typeof code === "string") return code;
  if (/socket hang up/.test(String(error))) return "ECONNRESET";
  return undefined;
}

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ message?: string }>; retryAfterSeconds?: number };
}

function statusBody(body: unknown): StatusBody | undefined {
  if (typeof body === "string") {
    try {
      const parsed = JSON.parse(body) as unknown;
      return typeof parsed === "object" && parsed !== null ? (parsed as StatusBody) : { message: body };
    } catch {
      return body === "" ? undefined : { message: body };
    }
  }
  return typeof body === "object" && body !== null ? (body as StatusBody) : undefined;
}

function retryAfterMs(
  headers: Record<string, string | string[] | undefined>,
  status: StatusBody | undefined,
) {
  const raw = headers["retry-after"];
  const header = Array.isArray(raw) ? raw[0] : raw;
  const seconds = header === undefined ? status?.details?.retryAfterSeconds : Number(header);
  return seconds !== undefined && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** Reads a failed call: an answer other than 2xx (a watch that did not start too), or a network error. */
export function failureOf(error: unknown): KubeFailure {
  if (error instanceof KubeApiError) {
    const status = statusBody(error.body);
    const cause = status?.details?.causes?.[0]?.message;
    const message = [status?.message, cause].filter(Boolean).join(" ") || `HTTP ${error.statusCode}`;
    return {
      status: error.statusCode,
      reason: status?.reason,
      message,
      retryAfterMs: retryAfterMs(error.headers, status),
    };
  }
  const watchStatus = (error as { statusCode?: unknown })?.statusCode;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof watchStatus === "number") return { status: watchStatus, message };
  return { message, network: networkCode(error) };
}

/**
 * Transient: 5xx, 429 (after its Retry-After), a connection cut during the call, and — once the server
 * has answered before (`reached`) — a refused connection.
 */
export function verdictOf(failure: KubeFailure, reached: boolean): Verdict {
  const { status, network } = failure;
  if (status !== undefined) {
    return status === 429 || status >= 500
      ? { retry: true, retryAfterMs: failure.retryAfterMs }
      : { retry: false };
  }
  if (network && (CUT_CODES.has(network) || (reached && REFUSED_CODES.has(network)))) return { retry: true };
  return { retry: false };
}

/** Where the failure happened, for the messages. */
export interface KubeWhere {
  context: string;
  server: string;
}

/** The project's error for a failed call: exit 4 for credentials and reachability, else exit 1. */
export function kubeError(
  error: unknown,
  where: KubeWhere,
  action: string,
  outcome?: Pick<RetryOutcome, "attempts" | "elapsedMs" | "exhausted">,
): Error {
  if (error instanceof ClouddroveError) return error;
  const failure = failureOf(error);
  const { status, network } = failure;
  const tried =
    outcome?.exhausted && outcome.attempts > 1
      ? ` (still failing after ${outcome.attempts} attempts in ${Math.round(outcome.elapsedMs / 1000)} s)`
      : "";
  if (status === 401 || status === 403) {
    return new CredentialsError(
      `The cluster refused the credentials of context ${where.context} (${status}) while ${action}.`,
      {
        cause: error,
        hint:
          status === 401
            ? `Refresh the credentials of context ${where.context} (for EKS: \`aws eks update-kubeconfig --name CLUSTER\`, then check AWS credentials).`
            : `The identity of context ${where.context} lacks permission (check with \`kubectl auth can-i\`): ${failure.message}`,
      },
    );
  }
  if (status !== undefined) {
    const transient = status === 429 || status >= 500;
    return new OperationError(
      `The Kubernetes API answered ${status} while ${action}: ${failure.message}${tried}`,
      {
        cause: error,
        hint: transient
          ? "The API server is overloaded or failing; run the same command again once it recovers (it continues where it stopped), or give each call more time with CLOUDDROVE_API_RETRY_BUDGET (e.g. 2m)."
          : "See the message above; run again with --verbose for details.",
      },
    );
  }
  if (
    (network && (UNREACHABLE_CODES.has(network) || CUT_CODES.has(network))) ||
    /fetch failed|ECONNREFUSED/.test(String(error))
  ) {
    return new CredentialsError(
      `The cluster of context ${where.context} (${where.server}) could not be reached while ${action}${tried}.`,
      {
        cause: error,
        hint: "Check that the cluster exists and is reachable, and that --kubeconfig/--context name it.",
      },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** The HTTP status behind an error from `request` (its cause), if the server answered one. */
export function statusOf(error: unknown): number | undefined {
  const cause = error instanceof ClouddroveError ? (error.cause as unknown) : error;
  return cause === undefined ? undefined : failureOf(cause).status;
}
