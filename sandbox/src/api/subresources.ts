/**
 * Subresources besides status: scale (autoscaling/v1 Scale for Deployments and ReplicaSets), pod
 * eviction (exactly the API server's PodDisruptionBudget checks), pod binding, and a simulated pod log.
 */

import { admitEviction } from "../eviction.js";
import { applyPatch, PATCH_TYPES } from "../patch.js";
import { formatSelector } from "../selectors.js";
import { ApiError, type KubeObject } from "../types.js";
import { deleteOptionsOf, type HandlerResult, isDryRun, type RequestContext } from "./handlers.js";
import { defaultFieldManager, parseBody, successStatus } from "./http.js";
import { cloneJson, isPlainObject, type Json, timestamp } from "./json.js";
import { badRequest, notFoundError } from "./status-errors.js";

function scaleOf(object: KubeObject): KubeObject {
  return {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: {
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      creationTimestamp: object.metadata.creationTimestamp,
    },
    spec: { replicas: object.spec?.replicas ?? 0 },
    status: { replicas: object.status?.replicas ?? 0, selector: formatSelector(object.spec?.selector) },
  };
}

export function handleScale(ctx: RequestContext, method: string): HandlerResult {
  const { store, route } = ctx;
  const live = store.getOrThrow(route.type.kind, route.namespace, route.name!);
  if (method === "GET") return { code: 200, body: scaleOf(live) };
  let wanted: Json;
  if (method === "PUT") wanted = parseBody(ctx.body);
  else {
    const contentType = String(ctx.headers["content-type"] ?? "")
      .split(";")[0]!
      .trim();
    const body = parseBody(ctx.body, contentType === PATCH_TYPES.apply);
    wanted = contentType === PATCH_TYPES.apply ? body : applyPatch(contentType, scaleOf(live), body);
  }
  const replicas = wanted?.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new ApiError(
      422,
      "Invalid",
      `Scale.autoscaling "${live.metadata.name}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`,
    );
  }
  const precondition = wanted?.metadata?.resourceVersion;
  const changed = cloneJson(live);
  changed.spec.replicas = replicas;
  if (precondition) changed.metadata.resourceVersion = precondition;
  const manager = ctx.query.get("fieldManager") ?? defaultFieldManager(ctx.headers["user-agent"]);
  const updated = store.update(changed, { dryRun: isDryRun(ctx.query), fieldManager: manager ?? undefined });
  return { code: 200, body: scaleOf(updated) };
}

/**
 * POST pods/NAME/eviction: the Eviction object checked against the URL, the budgets' rules (../eviction.ts),
 * then the pod deleted (gracefully, with the Eviction's delete options). 201 with a Success Status.
 */
export function handleEviction(ctx: RequestContext): HandlerResult {
  const { store, route } = ctx;
  const body: Json = parseBody(ctx.body);
  const name = route.name!;
  const bodyName = isPlainObject(body) ? (body as Json).metadata?.name : undefined;
  if (bodyName !== undefined && bodyName !== name) {
    throw badRequest("name in URL does not match name in Eviction object");
  }
  const pod = store.get("Pod", route.namespace, name);
  if (pod === undefined) throw notFoundError(route.type, name);
  const deleteOptions = deleteOptionsOf(ctx, (isPlainObject(body) ? body.deleteOptions : undefined) ?? {});
  const dryRun = deleteOptions.dryRun || isDryRun(ctx.query);
  const evict = () => {
    store.delete("Pod", route.namespace, name, { ...deleteOptions, dryRun });
    return { code: 201, body: successStatus(201) };
  };
  admitEviction(store, pod, { now: ctx.now(), dryRun });
  return evict();
}

/** POST pods/NAME/binding: what a scheduler does; sets spec.nodeName once. */
export function handleBinding(ctx: RequestContext): HandlerResult {
  const { store, route } = ctx;
  const body = parseBody(ctx.body);
  const node = body?.target?.name;
  if (!node)
    throw new ApiError(422, "Invalid", `Binding "${route.name}" is invalid: target.name: Required value`);
  const pod = store.getOrThrow("Pod", route.namespace, route.name!);
  if (pod.spec?.nodeName) {
    throw new ApiError(
      409,
      "Conflict",
      `Operation cannot be fulfilled on pods/binding "${route.name}": pod ${route.name} is already assigned to node "${pod.spec.nodeName}"`,
    );
  }
  const bound = cloneJson(pod);
  bound.spec.nodeName = node;
  store.update(bound, { dryRun: isDryRun(ctx.query) });
  return { code: 201, body: successStatus(201) };
}

/** GET pods/NAME/log: the sandbox runs no containers; it says so, in a log-like line. */
export function podLog(ctx: RequestContext): string {
  const { store, route } = ctx;
  const pod = store.getOrThrow("Pod", route.namespace, route.name!);
  const container = ctx.query.get("container") ?? pod.spec?.containers?.[0]?.name ?? "";
  return `${timestamp(ctx.now())} clouddrove sandbox: container "${container}" of pod "${pod.metadata.name}" is simulated; it writes no log\n`;
}
