/**
 * Reads templates/registry/*.yaml, located relative to this module so that the same code works from
 * src/core/render (tests) and dist/core/render (the built CLI). Parsed as YAML 1.1, the version kubectl
 * and the registry (Go yaml.v2) read, so the objects mean here what they mean there.
 */
import { readFile } from "node:fs/promises";
import { OperationError } from "../../errors.js";
import type { JsonObject, KubeObject } from "./types.js";

/** In apply order: each file's objects may depend on the ones before. */
export const TEMPLATE_FILES = [
  "00-namespace.yaml",
  "01-serviceaccount.yaml",
  "02-configmap.yaml",
  "03-secrets.yaml",
  "04-persistentvolume.yaml",
  "05-persistentvolumeclaim.yaml",
  "06-deployment.yaml",
  "07-poddisruptionbudget.yaml",
  "08-service.yaml",
  "09-networkpolicies.yaml",
] as const;

export function templateUrl(file: string): URL {
  return new URL(`../../../templates/registry/${file}`, import.meta.url);
}

export async function readTemplate(file: string): Promise<string> {
  try {
    return await readFile(templateUrl(file), "utf8");
  } catch (error) {
    throw new OperationError(`The registry template ${file} cannot be read`, {
      cause: error,
      hint: "Reinstall clouddrove: its templates/ directory is incomplete.",
    });
  }
}

/** Every object of every template, in file and document order. */
export async function loadTemplateObjects(): Promise<KubeObject[]> {
  const { parseAllDocuments } = await import("yaml");
  const objects: KubeObject[] = [];
  for (const file of TEMPLATE_FILES) {
    for (const doc of parseAllDocuments(await readTemplate(file), { version: "1.1" })) {
      if (doc.errors.length > 0) {
        throw new OperationError(
          `The registry template ${file} is not valid YAML: ${doc.errors[0]?.message}`,
          {
            hint: "Restore the template from the clouddrove package.",
          },
        );
      }
      const value = doc.toJS() as JsonObject | null;
      if (value !== null) objects.push(value as KubeObject);
    }
  }
  return objects;
}
