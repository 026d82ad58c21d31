/**
 * Server-side apply (PATCH with application/apply-patch+yaml), simplified from structured-merge-diff
 * but with its rules: the applied configuration is merged into the live object (keyed lists item by
 * item); a field another manager owns with a different value is a 409 Conflict naming the field and
 * the manager, unless `force` takes it over; fields this manager applied before and no longer applies
 * are removed when no other manager owns them; ownership is kept in metadata.managedFields.
 */
import { ApiError, type KubeObject } from "../types.js";
import { cloneJson, deepEqual, isPlainObject, type Json } from "./json.js";
import { isSetList, listKeysFor, sameKey } from "./list-keys.js";
import {
  entriesOf,
  type FieldPath,
  type FieldSet,
  fieldSetOf,
  formatPath,
  fromFieldsV1,
  type ManagedFieldsEntry,
  removeAt,
  toFieldsV1,
  valueAt,
} from "./managed-fields.js";

export interface ApplyInput {
  /** The stored object; undefined when the apply creates it. */
  live: KubeObject | undefined;
  /** The applied configuration (the patch body). */
  applied: KubeObject;
  manager: string;
  force: boolean;
  apiVersion: string;
  time: string;
  subresource?: "status";
}

function mergeApplied(live: Json, applied: Json, field: string): Json {
  if (isPlainObject(applied)) {
    const result: Json = isPlainObject(live) ? { ...live } : {};
    for (const [key, value] of Object.entries(applied)) {
      if (value === undefined) continue;
      result[key] = mergeApplied(result[key], value, key);
    }
    return result;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const keys = listKeysFor(field, [...live, ...applied]);
    if (keys) {
      const result = cloneJson(live);
      for (const item of applied) {
        const index = result.findIndex((existing: Json) => sameKey(keys, existing, item));
        if (index >= 0) result[index] = mergeApplied(result[index], item, field);
        else result.push(cloneJson(item));
      }
      return result;
    }
    if (isSetList(field, [...live, ...applied])) return [...new Set([...live, ...applied])];
  }
  return cloneJson(applied);
}

/** A manager's identity as the real conflict messages print it. */
export function describeManager(entry: ManagedFieldsEntry): string {
  let text = JSON.stringify(entry.manager);
  if (entry.subresource) text += ` with subresource ${JSON.stringify(entry.subresource)}`;
  return entry.operation === "Update" ? `${text} using ${entry.apiVersion}` : text;
}

function conflictError(conflicts: Array<{ entry: ManagedFieldsEntry; path: FieldPath }>): ApiError {
  const causes = conflicts.map(({ entry, path }) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${describeManager(entry)}`,
    field: formatPath(path),
  }));
  let message: string;
  if (conflicts.length === 1) {
    const [only] = conflicts;
    message = `Apply failed with 1 conflict: conflict with ${describeManager(only!.entry)}: ${formatPath(only!.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const { entry, path } of conflicts) {
      const name = describeManager(entry);
      byManager.set(name, [...(byManager.get(name) ?? []), formatPath(path)]);
    }
    const lines: string[] = [];
    for (const name of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${name}:`, ...byManager.get(name)!.map((p) => `- ${p}`));
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return new ApiError(409, "Conflict", message, { causes });
}

function isMine(entry: ManagedFieldsEntry, input: ApplyInput): boolean {
  return (
    entry.manager === input.manager &&
    entry.operation === "Apply" &&
    (entry.subresource ?? "") === (input.subresource ?? "")
  );
}

function ownsUnder(set: FieldSet, path: FieldPath): boolean {
  const item = path.at(-1) === "." ? path.slice(0, -1) : path;
  const prefix = JSON.stringify(item).slice(0, -1);
  for (const encoded of set)
    if (encoded === JSON.stringify(path) || encoded.startsWith(`${prefix},`)) return true;
  return false;
}

/** The object after applying, with managedFields updated; throws 409 on conflicts (without force). */
export function serverSideApply(input: ApplyInput): KubeObject {
  const { live, manager } = input;
  const applied = cloneJson(input.applied);
  if (input.subresource !== "status") delete applied.status;
  const appliedSet = fieldSetOf(applied, input.subresource);
  const base: KubeObject = live
    ? cloneJson(live)
    : { apiVersion: applied.apiVersion, kind: applied.kind, metadata: { name: "" } };
  let merged: KubeObject;
  if (input.subresource === "status") {
    merged = { ...base, status: mergeApplied(base.status, applied.status ?? {}, "status") };
  } else {
    merged = mergeApplied(base, applied, "") as KubeObject;
    merged.apiVersion = base.apiVersion || applied.apiVersion;
    merged.kind = base.kind || applied.kind;
  }

  const entries = entriesOf(live).map((entry) => ({ entry, set: fromFieldsV1(entry.fieldsV1) }));
  const previous = entries.find(({ entry }) => isMine(entry, input));
  const others = entries.filter(({ entry }) => !isMine(entry, input));

  const conflicts: Array<{ entry: ManagedFieldsEntry; path: FieldPath }> = [];
  for (const other of others) {
    for (const encoded of appliedSet) {
      if (!other.set.has(encoded)) continue;
      const path = JSON.parse(encoded) as FieldPath;
      if (path.at(-1) === ".") continue;
      if (!deepEqual(valueAt(live, path), valueAt(applied, path)))
        conflicts.push({ entry: other.entry, path });
    }
  }
  if (conflicts.length > 0) {
    if (!input.force) throw conflictError(conflicts);
    for (const { entry, path } of conflicts) {
      others.find((o) => o.entry === entry)?.set.delete(JSON.stringify(path));
    }
  }

  // Fields this manager stops applying go away unless someone else still owns them.
  for (const encoded of previous?.set ?? []) {
    if (appliedSet.has(encoded)) continue;
    const path = JSON.parse(encoded) as FieldPath;
    if (others.some((other) => ownsUnder(other.set, path))) continue;
    removeAt(merged, path);
  }

  const mine: ManagedFieldsEntry = {
    manager,
    operation: "Apply",
    apiVersion: input.apiVersion,
    time: input.time,
    fieldsType: "FieldsV1",
    fieldsV1: toFieldsV1(appliedSet),
    ...(input.subresource ? { subresource: input.subresource } : {}),
  };
  const managedFields: ManagedFieldsEntry[] = [];
  let placed = false;
  for (const { entry, set } of entries) {
    if (isMine(entry, input)) {
      managedFields.push(mine);
      placed = true;
    } else {
      const kept = others.find((o) => o.entry === entry)!.set;
      if (kept.size > 0 || set.size === 0) managedFields.push({ ...entry, fieldsV1: toFieldsV1(kept) });
    }
  }
  if (!placed) managedFields.push(mine);
  merged.metadata = {
    ...merged.metadata,
    managedFields: managedFields.filter((e) => Object.keys(e.fieldsV1).length > 0),
  };
  return merged;
}
