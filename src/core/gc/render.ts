/**
 * The garbage-collection Job (templates/gc/gc-job.yaml, with collect.sh's text as the shell's script):
 * the image, the config file and its mount are the live Deployment's, so the binary that collects is the
 * one that wrote the store and reads the same config.yml; the claim is the registry's.
 */
import type { V1Container, V1Deployment, V1Job, V1PodSpec } from "@kubernetes/client-node";
import { OperationError } from "../../errors.js";
import { imageTag, majorOf } from "../registry/image.js";
import { configPathOf, registryContainer } from "../registry/v3.js";
import { names } from "../render/names.js";
import { readTemplateIn } from "../render/templates.js";

export const gcNames = {
  job: "registry-clouddrove-gc",
  container: "collect",
  podLabels: { "app.kubernetes.io/component": "gc" },
  selector: "app.kubernetes.io/instance=clouddrove,app.kubernetes.io/component=gc",
} as const;

function defect(what: string): OperationError {
  return new OperationError(`templates/gc/gc-job.yaml does not match clouddrove: ${what}`, {
    hint: "Restore templates/gc/ from the clouddrove package.",
  });
}

export interface GcJobOptions {
  namespace: string;
  /** The Job's name (a fresh one per run). */
  name: string;
  /** The live registry Deployment: its image, config path and config mount. */
  deployment: V1Deployment;
  dryRun: boolean;
  deleteUntagged: boolean;
}

function setEnv(container: V1Container, name: string, value: string): void {
  const env = container.env ?? [];
  const existing = env.find((e) => e.name === name);
  if (existing) existing.value = value;
  else env.push({ name, value });
  container.env = env;
}

/** The Job that runs collect.sh once. */
export async function renderGcJob(options: GcJobOptions): Promise<V1Job> {
  const { parse } = await import("yaml");
  const [jobText, script] = await Promise.all([
    readTemplateIn("gc", "gc-job.yaml"),
    readTemplateIn("gc", "collect.sh"),
  ]);
  const job = parse(jobText, { version: "1.1" }) as V1Job;
  const pod = job.spec?.template?.spec as V1PodSpec | undefined;
  const container = pod?.containers.find((c) => c.name === gcNames.container);
  if (!pod || !container) throw defect(`no container ${gcNames.container}`);

  const registry = registryContainer(options.deployment, names.container);
  if (!registry?.image) {
    throw new OperationError(`Deployment ${names.deployment} has no registry container image`, {
      hint: "Run clouddrove deploy to restore it.",
    });
  }
  const configPath = configPathOf(registry, majorOf(imageTag(registry.image)) ?? 2);
  const configDirectory = configPath.slice(0, configPath.lastIndexOf("/")) || "/";

  job.metadata = { ...job.metadata, name: options.name, namespace: options.namespace };
  container.image = registry.image;
  container.args = [script];
  setEnv(container, "GC_CONFIG", configPath);
  setEnv(container, "DATA_DIR", names.dataPath);
  setEnv(container, "GC_DRY_RUN", String(options.dryRun));
  setEnv(container, "GC_DELETE_UNTAGGED", String(options.deleteUntagged));
  const configMount = container.volumeMounts?.find((m) => m.name === "config");
  const dataMount = container.volumeMounts?.find((m) => m.name === "data");
  if (!configMount || !dataMount) throw defect("no data or config volume mount");
  configMount.mountPath = configDirectory;
  // A dry run deletes nothing: it gets the store read-only, so it cannot.
  if (options.dryRun) dataMount.readOnly = true;
  else delete dataMount.readOnly;
  return job;
}
