/**
 * Which lists in the served kinds are maps keyed by some of their items' fields (the OpenAPI
 * `x-kubernetes-list-map-keys` / strategic-merge `patchMergeKey`), and which are sets. Server-side apply
 * and strategic merge patch both merge such lists item by item; any other list is replaced whole.
 */
import { isPlainObject, type Json } from "./json.js";

const KEYED_LISTS: Record<string, string[]> = {
  containers: ["name"],
  initContainers: ["name"],
  ephemeralContainers: ["name"],
  containerStatuses: ["name"],
  initContainerStatuses: ["name"],
  env: ["name"],
  volumes: ["name"],
  volumeMounts: ["mountPath"],
  volumeDevices: ["devicePath"],
  imagePullSecrets: ["name"],
  resourceClaims: ["name"],
  hostAliases: ["ip"],
  topologySpreadConstraints: ["topologyKey", "whenUnsatisfiable"],
  conditions: ["type"],
  ownerReferences: ["uid"],
};

/** Lists of scalars merged as sets. */
const SET_LISTS = new Set(["finalizers"]);

/** Key fields of the list under `field` (undefined: the list is atomic). Items must all carry the keys. */
export function listKeysFor(field: string, items: readonly Json[]): string[] | undefined {
  let keys = KEYED_LISTS[field];
  if (field === "ports") {
    // Container ports are keyed by containerPort, Service ports by port (both with protocol).
    keys = items.some((item) => isPlainObject(item) && "containerPort" in item)
      ? ["containerPort", "protocol"]
      : ["port", "protocol"];
  }
  if (keys === undefined) return undefined;
  const primary = keys[0]!;
  return items.every((item) => isPlainObject(item) && item[primary] !== undefined) ? keys : undefined;
}

export function isSetList(field: string, items: readonly Json[]): boolean {
  return SET_LISTS.has(field) && items.every((item) => typeof item === "string");
}

/** The key of one item of a keyed list, with defaults filled (protocol TCP). */
export function itemKey(keys: readonly string[], item: Json): Record<string, unknown> {
  const key: Record<string, unknown> = {};
  for (const name of keys) {
    const value = item?.[name] ?? (name === "protocol" ? "TCP" : undefined);
    if (value !== undefined) key[name] = value;
  }
  return key;
}

export function sameKey(keys: readonly string[], a: Json, b: Json): boolean {
  return keys.every(
    (name) =>
      (a?.[name] ?? (name === "protocol" ? "TCP" : undefined)) ===
      (b?.[name] ?? (name === "protocol" ? "TCP" : undefined)),
  );
}
