/**
 * Reads templates/registry/*.yaml, located relative to this module so that the same code works from
 * src/core/render (tests) and dist/core/render (the built CLI). Parsed as YAML 1.1, the version kubectl
 * and the registry (Go yaml.v2) read, so the objects mean here what they mean there.
 */
import { createHash } from "node:crypto";
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

/** Every object of one template text, in document order. */
async function parseTemplate(file: string, text: string): Promise<KubeObject[]> {
  const { parseAllDocuments } = await import("yaml");
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text, { version: "1.1" })) {
    if (doc.errors.length > 0) {
      throw new OperationError(`The registry template ${file} is not valid YAML: ${doc.errors[0]?.message}`, {
        hint: "Restore the template from the clouddrove package.",
      });
    }
    const value = doc.toJS() as JsonObject | null;
    if (value !== null) objects.push(value as KubeObject);
  }
  return objects;
}

/** The digest of the template texts a parsed copy was made from. */
export function templatesDigest(texts: string[]): string {
  const hash = createHash("sha256");
  for (const text of texts) hash.update(text).update("\0");
  return hash.digest("hex");
}

/**
 * The build parses the templates once into JSON (scripts/compile-templates.mjs); parsing YAML is most of
 * a dry run's start-up time. The copy is used only while its digest matches the templates as they are
 * now, so an edited template is never shadowed by a stale copy. Absent (tests run from src/), or stale:
 * the YAML is parsed.
 */
export const compiledTemplatesUrl = new URL("../../templates/registry.json", import.meta.url);

async function readCompiled(digest: string): Promise<KubeObject[] | undefined> {
  try {
    const compiled = JSON.parse(await readFile(compiledTemplatesUrl, "utf8")) as {
      digest: string;
      objects: KubeObject[];
    };
    return compiled.digest === digest ? compiled.objects : undefined;
  } catch {
    return undefined;
  }
}

/** Every object of every template, in file and document order. */
export async function loadTemplateObjects(): Promise<KubeObject[]> {
  const texts = await Promise.all(TEMPLATE_FILES.map(readTemplate));
  const compiled = await readCompiled(templatesDigest(texts));
  if (compiled) return compiled;
  const parsed = await Promise.all(TEMPLATE_FILES.map((file, i) => parseTemplate(file, texts[i] as string)));
  return parsed.flat();
}
