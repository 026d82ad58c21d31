/**
 * The patch formats the API server accepts: JSON merge patch (RFC 7386), JSON patch (RFC 6902, the
 * default of @kubernetes/client-node's typed patch calls) and strategic merge patch (what kubectl sends
 * for cordon, `set image`, `rollout restart`, scale). Server-side apply lives in api/server-side-apply.ts.
 */
import { cloneJson, isPlainObject, type Json } from "./api/json.js";
import { listKeysFor } from "./api/list-keys.js";
import { ApiError } from "./types.js";

export const PATCH_TYPES = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;

function badPatch(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isPlainObject(patch)) return cloneJson(patch);
  const result: Json = isPlainObject(target) ? cloneJson(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw badPatch(`json patch: invalid path "${path}"`);
  return path
    .slice(1)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function parentOf(document: Json, parts: string[], path: string): { parent: Json; key: string } {
  let parent = document;
  for (const part of parts.slice(0, -1)) {
    parent = Array.isArray(parent) ? parent[Number(part)] : parent?.[part];
    if (parent === undefined || parent === null || typeof parent !== "object") {
      throw new ApiError(
        422,
        "Invalid",
        `the server rejected our request due to an error in our request: doc is missing path: "${path}"`,
      );
    }
  }
  return { parent, key: parts.at(-1) ?? "" };
}

function getAt(document: Json, path: string): Json {
  let current = document;
  for (const part of pointer(path))
    current = Array.isArray(current) ? current[Number(part)] : current?.[part];
  return current;
}

/** RFC 6902: add, remove, replace, move, copy, test. */
export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw badPatch("json patch: the patch must be a list of operations");
  let document = cloneJson(target);
  for (const operation of operations) {
    const { op, path, value, from } = operation ?? {};
    const parts = pointer(String(path ?? ""));
    if (parts.length === 0) {
      if (op === "add" || op === "replace") document = cloneJson(value);
      continue;
    }
    const missing = () =>
      new ApiError(
        422,
        "Invalid",
        `the server rejected our request due to an error in our request: ${op} operation does not apply: doc is missing path: "${path}"`,
      );
    const { parent, key } = parentOf(document, parts, String(path));
    switch (op) {
      case "add":
      case "replace":
      case "copy":
      case "move": {
        let newValue = value;
        if (op === "copy" || op === "move") {
          newValue = cloneJson(getAt(document, String(from)));
          if (newValue === undefined) throw missing();
          if (op === "move") {
            const source = parentOf(document, pointer(String(from)), String(from));
            if (Array.isArray(source.parent)) source.parent.splice(Number(source.key), 1);
            else delete source.parent[source.key];
          }
        }
        if (Array.isArray(parent)) {
          const index = key === "-" ? parent.length : Number(key);
          if (op === "replace") {
            if (index >= parent.length) throw missing();
            parent[index] = cloneJson(newValue);
          } else parent.splice(index, 0, cloneJson(newValue));
        } else {
          if (op === "replace" && !(key in parent)) throw missing();
          parent[key] = cloneJson(newValue);
        }
        break;
      }
      case "remove":
        if (Array.isArray(parent)) {
          if (Number(key) >= parent.length) throw missing();
          parent.splice(Number(key), 1);
        } else {
          if (!(key in parent)) throw missing();
          delete parent[key];
        }
        break;
      case "test":
        if (JSON.stringify(getAt(document, String(path))) !== JSON.stringify(value)) {
          throw new ApiError(
            422,
            "Invalid",
            `the server rejected our request due to an error in our request: testing value ${path} failed`,
          );
        }
        break;
      default:
        throw badPatch(`json patch: unexpected kind of operation: "${op}"`);
    }
  }
  return document;
}

/** Strategic-merge merge keys that differ from server-side apply's list keys. */
const EXTRA_MERGE_KEYS: Record<string, string> = { taints: "key", addresses: "type", secrets: "name" };

function mergeKeyFor(field: string, items: Json[]): string | undefined {
  if (EXTRA_MERGE_KEYS[field]) return EXTRA_MERGE_KEYS[field];
  return listKeysFor(field, items)?.[0];
}

function strategicList(field: string, target: Json, patch: Json[]): Json {
  const current: Json[] = Array.isArray(target) ? cloneJson(target) : [];
  if (patch.some((item) => isPlainObject(item) && item.$patch === "replace")) {
    return patch.filter((item) => !(isPlainObject(item) && item.$patch === "replace"));
  }
  if (field === "finalizers") {
    // A set of strings: union.
    return [...new Set([...current, ...patch])];
  }
  const key = mergeKeyFor(field, [...current, ...patch.filter(isPlainObject)]);
  if (key === undefined) return cloneJson(patch);
  for (const item of patch) {
    if (!isPlainObject(item)) continue;
    const index = current.findIndex((existing) => existing?.[key] === item[key]);
    if (item.$patch === "delete") {
      if (index >= 0) current.splice(index, 1);
      continue;
    }
    if (index >= 0) current[index] = strategicMergePatch(current[index], item);
    else current.push(strategicMergePatch({}, item));
  }
  return current;
}

/**
 * Strategic merge patch, for the shapes clients send: maps merge (null deletes), keyed lists merge
 * item by item (containers by name, ports by containerPort, ...), `$patch: replace|delete`,
 * `$retainKeys`, `$deleteFromPrimitiveList/...` and `$setElementOrder/...` directives.
 */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isPlainObject(patch)) return cloneJson(patch);
  if (patch.$patch === "replace") {
    const { $patch: _directive, ...rest } = patch;
    return cloneJson(rest);
  }
  const result: Json = isPlainObject(target) ? cloneJson(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key === "$retainKeys" || key.startsWith("$setElementOrder/")) continue;
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      const field = key.slice("$deleteFromPrimitiveList/".length);
      const removals = Array.isArray(value) ? value : [];
      if (Array.isArray(result[field]))
        result[field] = result[field].filter((item: Json) => !removals.includes(item));
      continue;
    }
    if (value === null) delete result[key];
    else if (isPlainObject(value) && value.$patch === "delete") delete result[key];
    else if (Array.isArray(value)) result[key] = strategicList(key, result[key], value);
    else if (isPlainObject(value)) result[key] = strategicMergePatch(result[key], value);
    else result[key] = value;
  }
  if (Array.isArray(patch.$retainKeys)) {
    for (const key of Object.keys(result)) if (!patch.$retainKeys.includes(key)) delete result[key];
  }
  return result;
}

/** Applies a patch body (already parsed) of one of the non-apply types. */
export function applyPatch(contentType: string, target: Json, patch: Json): Json {
  switch (contentType) {
    case PATCH_TYPES.json:
      return jsonPatch(target, patch);
    case PATCH_TYPES.merge:
      return mergePatch(target, patch);
    case PATCH_TYPES.strategic:
      return strategicMergePatch(target, patch);
    default:
      throw new ApiError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
  }
}
