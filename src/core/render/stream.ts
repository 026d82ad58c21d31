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
 * One multi-document YAML stream ("---" separated), keys in template order. Written as YAML 1.1, the
 * version kubectl reads, so strings such as "on" or "0444" are quoted and stay strings there.
 */
export async function toYamlStream(objects: KubeObject[]): Promise<string> {
  const { Document } = await import("yaml");
  return objects
    .map((object) => new Document(object, { version: "1.1" }).toString({ lineWidth: 0 }))
    .join("---\n");
}
