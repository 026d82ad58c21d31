/**
 * The resource verbs: get, list, create, update, delete, deletecollection and patch (JSON patch, merge,
 * strategic merge, server-side apply), with dryRun, fieldManager and fieldValidation as the real API
 * server treats them. Subresources are in subresources.ts, watch in watch-stream.ts.
 */
import type { IncomingHttpHeaders } from "node:http";
import { rejectUnknownFields, unknownFields } from "../admission.js";
import { applyPatch, PATCH_TYPES } from "../patch.js";
import { apiVersionOf } from "../resources.js";
import type { MemoryStore, StoreDeleteOptions } from "../store.js";
import { ApiError, type KubeObject } from "../types.js";
import { defaultFieldManager, parseBody, type ResourceRoute } from "./http.js";
import { cloneJson, isPlainObject, type Json, timestamp } from "./json.js";
import { serverSideApply } from "./server-side-apply.js";
import { badRequest } from "./status-errors.js";
import { toTable } from "./tables.js";

export interface RequestContext {
  store: MemoryStore;
  now: () => number;
  route: ResourceRoute;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** Warnings for the response's Warning headers (fieldValidation=Warn). */
  warnings: string[];
}

export interface HandlerResult {
  code: number;
  body: unknown;
}

export function wantsTable(headers: IncomingHttpHeaders): boolean {
  return /as=Table/.test(String(headers.accept ?? ""));
}

function includeObject(query: URLSearchParams): "None" | "Object" | "Metadata" {
  const value = query.get("includeObject");
  return value === "Object" ? "Object" : value === "None" ? "None" : "Metadata";
}

export function presentOne(ctx: RequestContext, object: KubeObject): unknown {
  if (!wantsTable(ctx.headers)) return object;
  return toTable(object.kind, [object], {
    now: ctx.now(),
    resourceVersion: object.metadata.resourceVersion ?? "",
    includeObject: includeObject(ctx.query),
  });
}

export function isDryRun(query: URLSearchParams): boolean {
  const values = query.getAll("dryRun");
  for (const value of values) {
    if (value !== "All")
      throw new ApiError(
        400,
        "BadRequest",
        `Invalid dry run value: ${JSON.stringify(value)}: supported values: "All"`,
      );
  }
  return values.length > 0;
}

function fieldManagerOf(ctx: RequestContext): string | undefined {
  const manager = ctx.query.get("fieldManager") ?? defaultFieldManager(ctx.headers["user-agent"]);
  return manager === null ? undefined : manager;
}

function fieldValidation(ctx: RequestContext): "Strict" | "Warn" | "Ignore" {
  const value = ctx.query.get("fieldValidation") ?? "Warn";
  if (value !== "Strict" && value !== "Warn" && value !== "Ignore") {
    throw badRequest(
      `fieldValidation must be one of "Ignore", "Warn", or "Strict", got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Strict: 400 on unknown fields; Warn (the default): drop them and warn; Ignore: drop them. */
function checkFields(ctx: RequestContext, object: KubeObject, applyPatch: boolean): KubeObject {
  const mode = fieldValidation(ctx);
  if (mode === "Strict") {
    rejectUnknownFields(ctx.route.type, object, applyPatch);
    return object;
  }
  const unknown = unknownFields(ctx.route.type, object);
  if (unknown.length === 0) return object;
  const copy = cloneJson(object);
  for (const field of unknown) {
    const [first, second] = field.split(".");
    if (second === undefined) delete copy[first!];
    else if (isPlainObject(copy[first!])) delete copy[first!][second];
    if (mode === "Warn") ctx.warnings.push(`unknown field "${field}"`);
  }
  return copy;
}

/** The request body as an object of the route's kind, its namespace and name checked against the URL. */
function bodyObject(ctx: RequestContext, yaml = false): KubeObject {
  const body = parseBody(ctx.body, yaml);
  const { type, namespace, name } = ctx.route;
  if (!isPlainObject(body)) throw badRequest("the body of the request must be an object");
  const object = body as KubeObject;
  const expected = apiVersionOf(type);
  if (object.apiVersion !== undefined && object.apiVersion !== expected) {
    throw badRequest(
      `the API version in the data (${object.apiVersion}) does not match the expected API version (${expected})`,
    );
  }
  if (object.kind !== undefined && object.kind !== type.kind) {
    throw badRequest(`the kind in the data (${object.kind}) does not match the expected kind (${type.kind})`);
  }
  object.apiVersion = expected;
  object.kind = type.kind;
  object.metadata = isPlainObject(object.metadata) ? object.metadata : ({} as KubeObject["metadata"]);
  if (type.namespaced) {
    if (
      object.metadata.namespace !== undefined &&
      namespace !== undefined &&
      object.metadata.namespace !== namespace
    ) {
      throw badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    object.metadata.namespace = namespace ?? object.metadata.namespace;
  }
  if (name !== undefined && object.metadata.name !== undefined && object.metadata.name !== name) {
    throw badRequest(
      `the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`,
    );
  }
  if (name !== undefined) object.metadata.name = name;
  return object;
}

export function handleGet(ctx: RequestContext): HandlerResult {
  const { type, namespace, name } = ctx.route;
  return { code: 200, body: presentOne(ctx, ctx.store.getOrThrow(type.kind, namespace, name!)) };
}

export function handleList(ctx: RequestContext): HandlerResult {
  const { type, namespace } = ctx.route;
  const limit = Number(ctx.query.get("limit") ?? 0);
  const page = ctx.store.listPage(type.kind, {
    namespace,
    labelSelector: ctx.query.get("labelSelector") ?? undefined,
    fieldSelector: ctx.query.get("fieldSelector") ?? undefined,
    limit: Number.isFinite(limit) ? limit : 0,
    continue: ctx.query.get("continue") ?? undefined,
  });
  if (wantsTable(ctx.headers)) {
    return {
      code: 200,
      body: toTable(type.kind, page.items, {
        now: ctx.now(),
        resourceVersion: page.resourceVersion,
        includeObject: includeObject(ctx.query),
        continueToken: page.continue,
      }),
    };
  }
  return {
    code: 200,
    body: {
      apiVersion: apiVersionOf(type),
      kind: type.listKind,
      metadata: {
        resourceVersion: page.resourceVersion,
        ...(page.continue ? { continue: page.continue, remainingItemCount: page.remainingItemCount } : {}),
      },
      items: page.items,
    },
  };
}

export function handleCreate(ctx: RequestContext): HandlerResult {
  const object = checkFields(ctx, bodyObject(ctx), false);
  const created = ctx.store.create(object, {
    dryRun: isDryRun(ctx.query),
    fieldManager: fieldManagerOf(ctx),
  });
  return { code: 201, body: created };
}

export function handleUpdate(ctx: RequestContext): HandlerResult {
  const object = checkFields(ctx, bodyObject(ctx), false);
  const options = { dryRun: isDryRun(ctx.query), fieldManager: fieldManagerOf(ctx) };
  const updated =
    ctx.route.subresource === "status"
      ? ctx.store.updateStatus(object, options)
      : ctx.store.update(object, options);
  return { code: 200, body: updated };
}

/** DeleteOptions from the body (kubectl) or the query (client-node). */
export function deleteOptionsOf(
  ctx: RequestContext,
  fromBody: Json = parseBody(ctx.body),
): StoreDeleteOptions {
  const body: Json = isPlainObject(fromBody) ? fromBody : {};
  const query = ctx.query;
  const grace =
    body.gracePeriodSeconds ??
    (query.has("gracePeriodSeconds") ? Number(query.get("gracePeriodSeconds")) : undefined);
  let policy = body.propagationPolicy ?? query.get("propagationPolicy") ?? undefined;
  const orphan =
    body.orphanDependents ??
    (query.has("orphanDependents") ? query.get("orphanDependents") === "true" : undefined);
  if (policy === undefined && orphan !== undefined) policy = orphan ? "Orphan" : "Background";
  if (policy !== undefined && !["Foreground", "Background", "Orphan"].includes(policy)) {
    throw new ApiError(
      422,
      "Invalid",
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
    );
  }
  const dryRun = Array.isArray(body.dryRun) ? body.dryRun.includes("All") : isDryRun(query);
  return {
    gracePeriodSeconds: grace === undefined || Number.isNaN(grace) ? undefined : grace,
    propagationPolicy: policy,
    dryRun,
    preconditions: isPlainObject(body.preconditions) ? body.preconditions : undefined,
  };
}

export function handleDelete(ctx: RequestContext): HandlerResult {
  const { type, namespace, name } = ctx.route;
  const deleted = ctx.store.delete(type.kind, namespace, name!, deleteOptionsOf(ctx));
  return { code: 200, body: deleted };
}

export function handleDeleteCollection(ctx: RequestContext): HandlerResult {
  const { type, namespace } = ctx.route;
  const options = deleteOptionsOf(ctx);
  const items = ctx.store.list(type.kind, {
    namespace,
    labelSelector: ctx.query.get("labelSelector") ?? undefined,
    fieldSelector: ctx.query.get("fieldSelector") ?? undefined,
  });
  const deleted: KubeObject[] = [];
  for (const item of items) {
    try {
      const result = ctx.store.delete(type.kind, item.metadata.namespace, item.metadata.name, options);
      if (result) deleted.push(result);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }
  return {
    code: 200,
    body: {
      apiVersion: apiVersionOf(type),
      kind: type.listKind,
      metadata: { resourceVersion: ctx.store.resourceVersion },
      items: deleted,
    },
  };
}

function contentTypeOf(ctx: RequestContext): string {
  return String(ctx.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim();
}

function handleApply(ctx: RequestContext): HandlerResult {
  const { store, route } = ctx;
  const manager = ctx.query.get("fieldManager");
  if (!manager) {
    throw new ApiError(
      422,
      "Invalid",
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      {
        kind: "PatchOptions",
        group: "meta.k8s.io",
        causes: [
          {
            reason: "FieldValueRequired",
            message: "Required value: is required for apply patch",
            field: "fieldManager",
          },
        ],
      },
    );
  }
  const force = ctx.query.get("force") === "true";
  const applied = checkFields(ctx, bodyObject(ctx, true), true);
  const live = store.get(route.type.kind, route.namespace, route.name!);
  const subresource = route.subresource === "status" ? "status" : undefined;
  if (live === undefined && subresource) store.getOrThrow(route.type.kind, route.namespace, route.name!); // 404
  const merged = serverSideApply({
    live,
    applied,
    manager,
    force,
    apiVersion: apiVersionOf(route.type),
    time: timestamp(ctx.now()),
    subresource,
  });
  const dryRun = isDryRun(ctx.query);
  if (live === undefined) return { code: 201, body: store.create(merged, { dryRun }) };
  if (subresource) return { code: 200, body: store.updateStatus(merged, { dryRun }) };
  return { code: 200, body: store.update(merged, { dryRun }) };
}

export function handlePatch(ctx: RequestContext): HandlerResult {
  const contentType = contentTypeOf(ctx);
  if (contentType === PATCH_TYPES.apply) return handleApply(ctx);
  if (ctx.query.has("force")) {
    throw new ApiError(
      422,
      "Invalid",
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    );
  }
  const { store, route } = ctx;
  const live = store.getOrThrow(route.type.kind, route.namespace, route.name!);
  const patched = applyPatch(contentType, live, parseBody(ctx.body)) as KubeObject;
  if (!isPlainObject(patched)) throw badRequest("the patch did not produce an object");
  if (
    patched.metadata?.name !== live.metadata.name ||
    patched.metadata?.namespace !== live.metadata.namespace
  ) {
    throw badRequest("the name and namespace of an object cannot be changed by a patch");
  }
  const checked = checkFields(ctx, patched, false);
  const options = { dryRun: isDryRun(ctx.query), fieldManager: fieldManagerOf(ctx) };
  const updated =
    route.subresource === "status" ? store.updateStatus(checked, options) : store.update(checked, options);
  return { code: 200, body: updated };
}
