/**
 * The sandbox's own admin API, under /sandbox/v1 on the API server (same bearer token):
 *   GET    /sandbox/v1/state          faults, request count, resourceVersion, object counts, clock
 *   POST   /sandbox/v1/faults         add a fault rule (body: FaultRule) -> 201 with the rule and its id
 *   DELETE /sandbox/v1/faults[/ID]    remove one rule, or all rules and the added latency
 *   PUT    /sandbox/v1/faults/latency set the latency added to every request (body: {"ms": N})
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FaultInjector, FaultRule } from "../faults.js";
import type { MemoryStore } from "../store.js";
import { ApiError } from "../types.js";
import { parseBody, readBody, sendJson } from "./http.js";
import { isPlainObject } from "./json.js";

export interface AdminContext {
  store: MemoryStore;
  faults: FaultInjector;
  now: () => number;
}

function validRule(body: unknown): FaultRule {
  if (!isPlainObject(body) || !isPlainObject(body.action) || typeof body.action.type !== "string") {
    throw new ApiError(
      400,
      "BadRequest",
      'a fault rule needs an "action" with a "type" (error, reset, latency or cutWatch)',
    );
  }
  if (!["error", "reset", "latency", "cutWatch"].includes(body.action.type)) {
    throw new ApiError(400, "BadRequest", `unknown fault action type ${JSON.stringify(body.action.type)}`);
  }
  if (body.path !== undefined) {
    try {
      new RegExp(String(body.path));
    } catch {
      throw new ApiError(
        400,
        "BadRequest",
        `fault path is not a valid regular expression: ${String(body.path)}`,
      );
    }
  }
  return body as unknown as FaultRule;
}

/** Handles an admin request; false when the path is not an admin path. */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  ctx: AdminContext,
): Promise<boolean> {
  if (!path.startsWith("/sandbox/v1/")) return false;
  const rest = path.slice("/sandbox/v1/".length);
  const method = req.method ?? "GET";
  if (rest === "state" && method === "GET") {
    const counts: Record<string, number> = {};
    for (const type of ctx.store.types) counts[type.kind] = ctx.store.list(type.kind).length;
    sendJson(res, 200, {
      faults: ctx.faults.state(),
      resourceVersion: ctx.store.resourceVersion,
      objects: counts,
      clock: new Date(ctx.now()).toISOString(),
    });
    return true;
  }
  if (rest === "faults" && method === "POST") {
    sendJson(res, 201, ctx.faults.add(validRule(parseBody(await readBody(req)))));
    return true;
  }
  if (rest === "faults/latency" && method === "PUT") {
    const body = parseBody(await readBody(req));
    const ms = Number(body?.ms);
    if (!Number.isFinite(ms) || ms < 0)
      throw new ApiError(400, "BadRequest", 'latency needs {"ms": N} with N >= 0');
    ctx.faults.latencyMs = ms;
    sendJson(res, 200, ctx.faults.state());
    return true;
  }
  if ((rest === "faults" || rest.startsWith("faults/")) && method === "DELETE") {
    const id = rest === "faults" ? undefined : rest.slice("faults/".length);
    ctx.faults.clear(id);
    sendJson(res, 200, ctx.faults.state());
    return true;
  }
  throw new ApiError(404, "NotFound", "the server could not find the requested resource");
}
