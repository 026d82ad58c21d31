/**
 * Setting values in parsed template objects by path. A missing step means the template and the code
 * disagree, which is a defect of clouddrove itself, so it fails loudly instead of creating fields.
 */
import { OperationError } from "../../errors.js";
import type { JsonObject, KubeObject } from "./types.js";

function templateDefect(what: string): OperationError {
  return new OperationError(`The registry templates do not match the renderer: ${what}`, {
    hint: "Restore templates/registry/ from the clouddrove package.",
  });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The object at `path` below `root` (every step must exist). */
export function at(root: JsonObject, ...path: string[]): JsonObject {
  let node: unknown = root;
  for (const step of path) {
    node = isObject(node) ? node[step] : undefined;
    if (!isObject(node)) throw templateDefect(`no object at ${path.join(".")}`);
  }
  return node as JsonObject;
}

/** The list at `path` below `root`. */
export function listAt(root: JsonObject, ...path: string[]): JsonObject[] {
  const parent = at(root, ...path.slice(0, -1));
  const value = parent[path.at(-1) as string];
  if (!Array.isArray(value)) throw templateDefect(`no list at ${path.join(".")}`);
  return value as JsonObject[];
}

/** The element of a list of named things (containers, volumes) with this name. */
export function named(items: JsonObject[], name: string): JsonObject {
  const found = items.find((item) => item.name === name);
  if (!found) throw templateDefect(`no entry named ${name}`);
  return found;
}

export function findObject(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw templateDefect(`no ${kind} ${name}`);
  return found;
}
