/** Output forms of rendered objects: masked copies for dry runs, and one YAML stream. */
import type { KubeObject } from "./types.js";

export const MASK = "<masked>";

/** A deep copy with every Secret's data/stringData values replaced by "<masked>" (keys kept). */
export function maskSecrets(objects: KubeObject[]): KubeObject[] {
  return objects.map((object) => {
    const copy = structuredClone(object);
    if (copy.kind !== "Secret") return copy;
    for (const field of ["data", "stringData"]) {
      const values = copy[field];
      if (values && typeof values === "object") {
        copy[field] = Object.fromEntries(Object.keys(values).map((key) => [key, MASK]));
      }
    }
    return copy;
  });
}

/**
 * One multi-document YAML stream ("---" separated), keys in template order. Strings such as "on" or "0444"
 * are quoted, so they stay strings for kubectl, which reads YAML 1.1.
 */
export { toYamlStream } from "../yaml/emit.js";
