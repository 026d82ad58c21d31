/**
 * Reads templates/registry/*.yaml from the package. Parsed as YAML 1.1, the version kubectl and the
 * registry (Go yaml.v2) read, so the objects mean here what they mean there.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { OperationError } from "../../errors.js";
import { packageFile } from "../../package-files.js";
import type { JsonObject, KubeObject } from "./types.js";

/** In apply order: each file's objects may depend on the ones before. */
export const TEMPLATE_FILES = [
  "00-namespace.yaml",
  "01-serviceaccount.yaml",
  "02-configmap.yaml",
  "03-secrets.yaml",
  "03-tls.yaml",
  "04-persistentvolume.yaml",
  "05-persistentvolumeclaim.yaml",
  "06-deployment.yaml",
  "07-poddisruptionbudget.yaml",
  "08-service.yaml",
  "09-networkpolicies.yaml",
] as const;

/** The package's template folders, one per thing clouddrove renders. */
export type TemplateFolder = "registry" | "backup" | "gc" | "node-trust";

/**
 * A file of the package's templates/FOLDER/; one that is missing means a broken installation. Read
 * synchronously: small files, some on every command's start-up path, where a promise-based read (open,
 * stat, read, close as separate round trips through the thread pool) costs more than the read itself.
 */
export function readTemplateInSync(folder: TemplateFolder, file: string): string {
  try {
    return readFileSync(packageFile(`templates/${folder}/${file}`), "utf8");
  } catch (error) {
    throw new OperationError(`The ${folder} template ${file} cannot be read`, {
      cause: error,
      hint: `Reinstall clouddrove: its templates/${folder}/ directory is incomplete.`,
    });
  }
}

export async function readTemplateIn(folder: TemplateFolder, file: string): Promise<string> {
  return readTemplateInSync(folder, file);
}

export function readTemplate(file: string): Promise<string> {
  return readTemplateIn("registry", file);
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
 * The build parses the templates once into JSON (scripts/compile-templates.mjs), with the registry's
 * config.yml already rendered; parsing YAML is most of a dry run's start-up time. The copy is used only
 * while its digest matches the templates as they are now, so an edited template is never shadowed by a
 * stale copy. Absent (before the first build), or stale: the YAML is parsed.
 */
export const compiledTemplatesUrl = packageFile("dist/templates/registry.json");

export interface CompiledTemplates {
  digest: string;
  objects: KubeObject[];
  /** config.yml as renderRegistryConfig("tls") writes it. */
  registryConfig: string;
  /** config.yml as renderRegistryConfig("http") writes it (tls.mode insecure-http). */
  registryConfigHttp: string;
}

let compiled: Promise<CompiledTemplates | undefined> | undefined;

/** The compiled copy when it matches the templates (read once per process), else undefined. */
export function compiledTemplates(): Promise<CompiledTemplates | undefined> {
  compiled ??= (async () => {
    const texts = TEMPLATE_FILES.map((file) => readTemplateInSync("registry", file));
    try {
      const copy = JSON.parse(readFileSync(compiledTemplatesUrl, "utf8")) as CompiledTemplates;
      return copy.digest === templatesDigest(texts) &&
        typeof copy.registryConfig === "string" &&
        typeof copy.registryConfigHttp === "string"
        ? copy
        : undefined;
    } catch {
      return undefined;
    }
  })();
  return compiled;
}

/** Every object of every template, parsed from the YAML, in file and document order. */
export async function parseTemplateObjects(): Promise<KubeObject[]> {
  const texts = await Promise.all(TEMPLATE_FILES.map(readTemplate));
  const parsed = await Promise.all(TEMPLATE_FILES.map((file, i) => parseTemplate(file, texts[i] as string)));
  return parsed.flat();
}

/** Every object of every template, in file and document order: a fresh copy the caller may change. */
export async function loadTemplateObjects(): Promise<KubeObject[]> {
  const copy = await compiledTemplates();
  return copy ? structuredClone(copy.objects) : parseTemplateObjects();
}
