/** HTTP plumbing of the API server: bodies, JSON answers, Status errors, and resource URL parsing. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseYaml } from "yaml";
import { type ServedType, servedTypeByResource } from "../resources.js";
import { ApiError, type KubeObject } from "../types.js";
import type { Json } from "./json.js";

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses a JSON (or, for apply patches, YAML) body; a malformed one is a 400 as on a real server. */
export function parseBody(text: string, yaml = false): Json {
  if (text.trim() === "") return undefined;
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ApiError(400, "BadRequest", `the body of the request could not be decoded: ${detail}`);
  }
}

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-cache, private",
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: unknown): void {
  const apiError =
    error instanceof ApiError
      ? error
      : new ApiError(
          500,
          "InternalError",
          `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`,
        );
  const headers: Record<string, string> = {};
  const retryAfter = apiError.details?.retryAfterSeconds;
  if (typeof retryAfter === "number" && retryAfter > 0) headers["Retry-After"] = String(retryAfter);
  const status = apiError.toStatus();
  if (status.details === undefined) delete status.details;
  sendJson(res, apiError.code, status, headers);
}

export function notFoundPath(): ApiError {
  return new ApiError(404, "NotFound", "the server could not find the requested resource");
}

export interface ResourceRoute {
  type: ServedType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * /api/v1/[namespaces/NS/]RESOURCE[/NAME[/SUB]] and /apis/GROUP/VERSION/... ; undefined when the path
 * is not a resource path at all.
 */
export function parseResourcePath(path: string): ResourceRoute | undefined {
  const parts = path
    .split("/")
    .filter((p) => p !== "")
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 3) {
    group = "";
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  // namespaces/NS/RESOURCE...: a namespaced request, unless what follows is a Namespace subresource.
  if (rest[0] === "namespaces" && rest.length >= 3 && !["status", "finalize"].includes(rest[2]!)) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  if (resource === undefined || extra.length > 0) throw notFoundPath();
  const type = servedTypeByResource(group, version, resource);
  if (type === undefined) throw notFoundPath();
  if (namespace !== undefined && !type.namespaced) throw notFoundPath();
  if (subresource !== undefined && !(type.subresources ?? []).includes(subresource)) throw notFoundPath();
  return { type, namespace, name, subresource };
}

/** The verb a request is, as RBAC and audit name it (used to match faults). */
export function verbOf(method: string, route: ResourceRoute | undefined, watch: boolean): string {
  switch (method) {
    case "GET":
      if (watch) return "watch";
      return route?.name === undefined && route !== undefined ? "list" : "get";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return route?.name === undefined ? "deletecollection" : "delete";
    default:
      return method.toLowerCase();
  }
}

/** The field manager a real server derives from the User-Agent when the request names none. */
export function defaultFieldManager(userAgent: string | undefined): string | undefined {
  if (!userAgent) return undefined;
  const prefix = userAgent.split("/")[0]?.trim();
  return prefix ? prefix.slice(0, 128) : undefined;
}

export function isWatch(query: URLSearchParams): boolean {
  const value = query.get("watch");
  return value === "true" || value === "1";
}

/** A Status of kind Success, as some verbs answer. */
export function successStatus(code: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Status",
    metadata: {} as KubeObject["metadata"],
    status: "Success",
    code,
    ...extra,
  };
}
