/**
 * Field ownership (metadata.managedFields), simplified from structured-merge-diff: a manager owns a set
 * of field paths; keyed list items are addressed by key (`k:{"name":"app"}`), set items by value
 * (`v:"x"`), other lists are owned whole. Stored on the object in the real FieldsV1 shape, so clients
 * that read managedFields see what they expect.
 */
import { deepEqual, isPlainObject, type Json } from "./json.js";
import { isSetList, itemKey, listKeysFor } from "./list-keys.js";

/** A path is a list of FieldsV1 segments: "f:spec", `k:{"name":"app"}`, `v:"x"`, or "." (the item itself). */
export type FieldPath = string[];
/** A set of paths, each encoded as JSON so it can live in a Set. */
export type FieldSet = Set<string>;

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time?: string;
  fieldsType: "FieldsV1";
  fieldsV1: Json;
  subresource?: string;
}

/** ObjectMeta's fields that name the object or that the server sets: no field manager owns them. */
export const UNOWNED_METADATA = [
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
] as const;
/** ObjectMeta's other fields: clients set them, and the manager that set one owns it. */
export const OWNED_METADATA = [
  "generateName",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
] as const;

const IGNORED_METADATA = new Set<string>(UNOWNED_METADATA);

function collect(value: Json, field: string, path: FieldPath, out: FieldSet): void {
  if (isPlainObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined);
    if (keys.length === 0) out.add(JSON.stringify(path));
    for (const key of keys) collect(value[key], key, [...path, `f:${key}`], out);
    return;
  }
  if (Array.isArray(value)) {
    const keys = listKeysFor(field, value);
    if (keys) {
      for (const item of value) {
        const itemPath = [...path, `k:${JSON.stringify(itemKey(keys, item))}`];
        out.add(JSON.stringify([...itemPath, "."]));
        for (const key of Object.keys(item))
          if (item[key] !== undefined) collect(item[key], key, [...itemPath, `f:${key}`], out);
      }
      return;
    }
    if (isSetList(field, value)) {
      for (const item of value) out.add(JSON.stringify([...path, `v:${JSON.stringify(item)}`]));
      return;
    }
  }
  out.add(JSON.stringify(path));
}

/** The fields an object (or an applied configuration) sets, for the main resource or its status. */
export function fieldSetOf(object: Json, subresource?: "status"): FieldSet {
  const out: FieldSet = new Set();
  if (!isPlainObject(object)) return out;
  if (subresource === "status") {
    if (object.status !== undefined) collect(object.status, "status", ["f:status"], out);
    return out;
  }
  for (const key of Object.keys(object)) {
    if (key === "apiVersion" || key === "kind" || key === "status" || object[key] === undefined) continue;
    if (key === "metadata" && isPlainObject(object.metadata)) {
      for (const metaKey of Object.keys(object.metadata)) {
        if (IGNORED_METADATA.has(metaKey) || object.metadata[metaKey] === undefined) continue;
        collect(object.metadata[metaKey], metaKey, ["f:metadata", `f:${metaKey}`], out);
      }
      continue;
    }
    collect(object[key], key, [`f:${key}`], out);
  }
  return out;
}

/** The value at a path (undefined when absent). A "." segment yields the list item itself. */
export function valueAt(object: Json, path: FieldPath): Json {
  let current = object;
  for (const segment of path) {
    if (segment === ".") return current;
    if (current === undefined || current === null) return undefined;
    if (segment.startsWith("f:")) current = current[segment.slice(2)];
    else if (segment.startsWith("k:")) {
      const key = JSON.parse(segment.slice(2)) as Record<string, unknown>;
      const names = Object.keys(key);
      current = Array.isArray(current)
        ? current.find((item) => deepEqual(itemKey(names, item), key))
        : undefined;
    } else if (segment.startsWith("v:")) {
      const wanted = JSON.parse(segment.slice(2));
      current =
        Array.isArray(current) && current.some((item) => deepEqual(item, wanted)) ? wanted : undefined;
    }
  }
  return current;
}

/** Removes the field (or list item) at a path from `object`, in place. */
export function removeAt(object: Json, path: FieldPath): void {
  const parts = path.at(-1) === "." ? path.slice(0, -1) : path;
  const parent = valueAt(object, parts.slice(0, -1));
  const last = parts.at(-1);
  if (parent === undefined || parent === null || last === undefined) return;
  if (last.startsWith("f:") && isPlainObject(parent)) delete parent[last.slice(2)];
  else if ((last.startsWith("k:") || last.startsWith("v:")) && Array.isArray(parent)) {
    const item = valueAt(parent, [last]);
    const index = parent.findIndex((candidate) => candidate === item || deepEqual(candidate, item));
    if (index >= 0) parent.splice(index, 1);
  }
}

/** `.spec.template.spec.containers[name="app"].image`, as the real conflict messages print paths. */
export function formatPath(path: FieldPath): string {
  let text = "";
  for (const segment of path) {
    if (segment === ".") continue;
    if (segment.startsWith("f:")) text += `.${segment.slice(2)}`;
    else if (segment.startsWith("k:")) {
      const key = JSON.parse(segment.slice(2)) as Record<string, unknown>;
      text += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}]`;
    } else if (segment.startsWith("v:")) text += `[=${segment.slice(2)}]`;
  }
  return text;
}

export function toFieldsV1(set: FieldSet): Json {
  const tree: Json = {};
  for (const encoded of [...set].sort()) {
    let node = tree;
    for (const segment of JSON.parse(encoded) as FieldPath) node = node[segment] ??= {};
  }
  return tree;
}

export function fromFieldsV1(tree: Json): FieldSet {
  const out: FieldSet = new Set();
  const walk = (node: Json, path: FieldPath): void => {
    const keys = isPlainObject(node) ? Object.keys(node) : [];
    if (keys.length === 0) {
      if (path.length > 0) out.add(JSON.stringify(path));
      return;
    }
    for (const key of keys) walk(node[key], [...path, key]);
  };
  walk(tree, []);
  return out;
}

export function entriesOf(object: Json): ManagedFieldsEntry[] {
  const entries = object?.metadata?.managedFields;
  return Array.isArray(entries) ? (entries as ManagedFieldsEntry[]) : [];
}

function sameManager(
  entry: ManagedFieldsEntry,
  manager: string,
  operation: string,
  subresource?: string,
): boolean {
  return (
    entry.manager === manager &&
    entry.operation === operation &&
    (entry.subresource ?? "") === (subresource ?? "")
  );
}

/** Paths whose value differs between two versions of an object (present in either). */
export function changedPaths(before: Json, after: Json, subresource?: "status"): FieldSet {
  const oldSet = fieldSetOf(before, subresource);
  const newSet = fieldSetOf(after, subresource);
  const changed: FieldSet = new Set();
  for (const encoded of new Set([...oldSet, ...newSet])) {
    const path = JSON.parse(encoded) as FieldPath;
    if (path.at(-1) === ".") {
      if (oldSet.has(encoded) !== newSet.has(encoded)) changed.add(encoded);
    } else if (!deepEqual(valueAt(before, path), valueAt(after, path))) changed.add(encoded);
  }
  return changed;
}

/**
 * Records an Update-operation write (create, PUT, merge/strategic patch) by `manager`: it takes the
 * fields it changed; others lose them; fields gone from the object are dropped from every set.
 */
export function recordUpdate(
  before: Json,
  after: Json,
  manager: string,
  apiVersion: string,
  time: string,
  subresource?: "status",
): ManagedFieldsEntry[] {
  const changed = changedPaths(before ?? {}, after, subresource);
  const present = new Set([...fieldSetOf(after), ...fieldSetOf(after, "status")]);
  const result: ManagedFieldsEntry[] = [];
  let mine: FieldSet = new Set();
  for (const entry of before === undefined ? [] : entriesOf(before)) {
    const set = fromFieldsV1(entry.fieldsV1);
    if (sameManager(entry, manager, "Update", subresource)) {
      mine = set;
      continue;
    }
    for (const path of changed) set.delete(path);
    for (const path of set) if (!present.has(path)) set.delete(path);
    if (set.size > 0) result.push({ ...entry, fieldsV1: toFieldsV1(set) });
  }
  for (const path of changed) if (present.has(path)) mine.add(path);
  for (const path of mine) if (!present.has(path)) mine.delete(path);
  if (mine.size > 0) {
    result.push({
      manager,
      operation: "Update",
      apiVersion,
      time,
      fieldsType: "FieldsV1",
      fieldsV1: toFieldsV1(mine),
      ...(subresource ? { subresource } : {}),
    });
  }
  return result;
}
