/**
 * The registry's 2.x -> 3.x migration as pure functions over the config text and the Deployment.
 *
 * Distribution 3 (registry:3.0.0) reads /etc/distribution/config.yml, with no fallback to the 2.x path
 * /etc/docker/registry/config.yml: a ConfigMap left at the old mount is silently ignored unless `serve
 * <path>` names it. Its documented configuration (distribution/distribution
 * docs/content/about/configuration.md, "List of configuration options") has the top-level sections
 * version, log, loglevel (deprecated), storage, auth, middleware, http, notifications, redis, health,
 * proxy, validation (and catalog); the `reporting` and `compatibility` sections, the swift and oss storage
 * drivers and schema1 support are gone, redis moved to a client with `addrs` and connection-pool keys, and
 * OpenTelemetry tracing is on by default, exporting to localhost:4318 unless OTEL_TRACES_EXPORTER=none.
 * The storage layout (docker/registry/v2/...) is unchanged, so 3.x serves 2.x data in place.
 *
 * The migration keeps what makes the replicas one registry: the same storage root (the shared claim),
 * the same htpasswd file, and http.secret (an env var from the shared Secret, untouched here).
 */
import type { V1Container, V1Deployment, V1VolumeMount } from "@kubernetes/client-node";

export const REGISTRY_V3 = {
  configDir: "/etc/distribution",
  configPath: "/etc/distribution/config.yml",
  /** The 2.x image's CMD path, where clouddrove's v2 Deployment mounts the ConfigMap. */
  v2ConfigPath: "/etc/docker/registry/config.yml",
  tracingEnv: { name: "OTEL_TRACES_EXPORTER", value: "none" },
} as const;

/** Top-level sections of Distribution 3's documented configuration. */
export const V3_SECTIONS = new Set([
  "version",
  "log",
  "loglevel",
  "storage",
  "auth",
  "middleware",
  "http",
  "notifications",
  "redis",
  "health",
  "proxy",
  "validation",
  "catalog",
]);

/** Storage drivers 3.x registers; the rest of `storage` are options shared by every driver. */
const V3_DRIVERS = new Set(["filesystem", "azure", "gcs", "s3", "inmemory"]);
const STORAGE_OPTIONS = new Set(["delete", "cache", "maintenance", "redirect", "tag"]);
const REMOVED = [
  { path: ["reporting"], why: "error reporting (bugsnag, newrelic) was removed in 3.0" },
  { path: ["compatibility"], why: "schema1 manifests are no longer supported in 3.0" },
  { path: ["storage", "swift"], why: "the swift storage driver was removed in 3.0" },
  { path: ["storage", "oss"], why: "the oss storage driver was removed in 3.0" },
] as const;

export interface ConfigMigration {
  /** The 3.x config text (unchanged, comments and all, when nothing needed changing). */
  text: string;
  /** Keys dropped, each with why. */
  removed: string[];
  /** Keys rewritten to their 3.x form. */
  changed: string[];
}

/** Migrates a 2.x config.yml to 3.x. Comments and key order survive (YAML 1.1, as Go's yaml.v2 reads it). */
export async function migrateRegistryConfig(v2Text: string): Promise<ConfigMigration> {
  const { parseDocument, isMap } = await import("yaml");
  const doc = parseDocument(v2Text, { version: "1.1" });
  if (doc.errors.length > 0) {
    throw new SyntaxError(`the registry config is not valid YAML: ${doc.errors[0]?.message}`);
  }
  const removed: string[] = [];
  const changed: string[] = [];
  for (const { path, why } of REMOVED) {
    if (doc.hasIn(path)) {
      doc.deleteIn(path);
      removed.push(`${path.join(".")}: ${why}`);
    }
  }
  // loglevel is still read but deprecated; log.level says the same.
  if (doc.has("loglevel")) {
    const level = doc.get("loglevel");
    // A missing parent is created from a plain object: setIn would build a JS Map, which YAML 1.1
    // writes as !!omap — a sequence to Go's yaml.v2, not the mapping the registry expects.
    if (!doc.has("log")) doc.set("log", doc.createNode({ level }));
    else if (!doc.hasIn(["log", "level"])) doc.setIn(["log", "level"], level);
    doc.delete("loglevel");
    changed.push("loglevel -> log.level");
  }
  // redis: 3.x uses go-redis v9 (addrs list, pool sizes as connection counts).
  const redis = doc.get("redis");
  if (isMap(redis)) {
    if (doc.hasIn(["redis", "addr"])) {
      doc.setIn(["redis", "addrs"], doc.createNode([doc.getIn(["redis", "addr"])]));
      doc.deleteIn(["redis", "addr"]);
      changed.push("redis.addr -> redis.addrs");
    }
    const pool: Array<[string, string]> = [
      ["maxidle", "maxidleconns"],
      ["maxactive", "poolsize"],
      ["idletimeout", "connmaxidletime"],
    ];
    for (const [from, to] of pool) {
      if (doc.hasIn(["redis", "pool", from])) {
        doc.setIn(["redis", to], doc.getIn(["redis", "pool", from]));
        changed.push(`redis.pool.${from} -> redis.${to}`);
      }
    }
    if (doc.hasIn(["redis", "pool"])) doc.deleteIn(["redis", "pool"]);
  }
  const text = removed.length === 0 && changed.length === 0 ? v2Text : doc.toString({ lineWidth: 0 });
  return { text, removed, changed };
}

/**
 * The parts of a registry's config.yml read here. It is the user's document, not a Kubernetes object:
 * any other key may be there too, and a value may have any type until checked.
 */
interface RegistryConfigDocument {
  version?: unknown;
  storage?: { filesystem?: { rootdirectory?: string }; [driverOrOption: string]: unknown };
  redis?: { addr?: unknown; pool?: unknown };
  auth?: { htpasswd?: { path?: string; realm?: string } };
  http?: { secret?: string };
}

/** What 3.x would refuse or silently misread in a config, checked against its documented options. */
export async function v3ConfigProblems(text: string): Promise<string[]> {
  const { parse } = await import("yaml");
  let parsed: unknown;
  try {
    parsed = parse(text, { version: "1.1" });
  } catch (error) {
    return [`not valid YAML: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  if (parsed === null || typeof parsed !== "object") return ["the config is not a mapping"];
  const config = parsed as RegistryConfigDocument;
  if (String(config.version) !== "0.1") problems.push(`version must be 0.1, found ${String(config.version)}`);
  for (const key of Object.keys(config)) {
    if (!V3_SECTIONS.has(key)) problems.push(`${key}: not a section of the 3.x configuration`);
  }
  const storage = config.storage ?? {};
  const drivers = Object.keys(storage).filter((k) => !STORAGE_OPTIONS.has(k));
  const unknown = drivers.filter((d) => !V3_DRIVERS.has(d));
  if (unknown.length > 0) problems.push(`storage driver(s) ${unknown.join(", ")} do not exist in 3.x`);
  if (drivers.length !== 1) problems.push(`exactly one storage driver is required, found ${drivers.length}`);
  if (storage.filesystem && !storage.filesystem.rootdirectory) {
    problems.push(
      "storage.filesystem.rootdirectory is not set (3.x would store in the image's /var/lib/registry)",
    );
  }
  if (config.redis?.addr !== undefined) problems.push("redis.addr is 2.x; 3.x reads redis.addrs");
  if (config.redis?.pool !== undefined) problems.push("redis.pool is 2.x; 3.x reads maxidleconns/poolsize");
  if (config.auth?.htpasswd && !config.auth.htpasswd.path) problems.push("auth.htpasswd.path is not set");
  return problems;
}

/** The facts a migrated config must keep from the 2.x one for the replicas to stay one registry. */
export async function registryIdentity(
  text: string,
): Promise<{ rootDirectory?: string; htpasswdPath?: string; realm?: string; httpSecretInFile?: string }> {
  const { parse } = await import("yaml");
  const config = (parse(text, { version: "1.1" }) ?? {}) as RegistryConfigDocument;
  return {
    rootDirectory: config.storage?.filesystem?.rootdirectory,
    htpasswdPath: config.auth?.htpasswd?.path,
    realm: config.auth?.htpasswd?.realm,
    httpSecretInFile: config.http?.secret,
  };
}

/** The registry container of a Deployment (by name, else the first). */
export function registryContainer(deployment: V1Deployment, name = "registry"): V1Container | undefined {
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  return containers.find((c) => c.name === name) ?? containers[0];
}

/** The container's mount of the volume that holds `configMap`, if any. */
function configMount(
  deployment: V1Deployment,
  container: V1Container,
  configMap: string,
): V1VolumeMount | undefined {
  const volumes = deployment.spec?.template?.spec?.volumes ?? [];
  const volume = volumes.find((v) => v.configMap?.name === configMap);
  if (!volume) return undefined;
  return (container.volumeMounts ?? []).find((m) => m.name === volume.name);
}

/** The config file a registry container reads: `serve <path>` in args, else the image's default. */
export function configPathOf(container: V1Container | undefined, major: number): string {
  const args = container?.args ?? [];
  const command = container?.command ?? [];
  const all = [...command, ...args];
  const serve = all.indexOf("serve");
  const named = serve >= 0 ? all[serve + 1] : all.find((a) => a.endsWith(".yml") || a.endsWith(".yaml"));
  if (named) return named;
  return major >= 3 ? REGISTRY_V3.configPath : REGISTRY_V3.v2ConfigPath;
}

export interface DeploymentMigration {
  /** The container image, e.g. registry:3.0.0. */
  image: string;
  /** The ConfigMap whose config.yml the registry reads. */
  configMap: string;
  /** New value of the pod template's checksum annotation, when the caller tracks one. */
  checksum?: { annotation: string; value: string };
}

/**
 * The Deployment at 3.x: the new image; the config volume mounted at /etc/distribution and named by
 * `serve /etc/distribution/config.yml`; tracing off. Storage, auth and http.secret (env) are untouched.
 * Works on a copy; idempotent.
 */
export function migrateDeployment(deployment: V1Deployment, migration: DeploymentMigration): V1Deployment {
  const copy = structuredClone(deployment);
  const container = registryContainer(copy);
  if (!container) throw new TypeError("the Deployment has no containers");
  container.image = migration.image;
  const mount = configMount(copy, container, migration.configMap);
  if (!mount) {
    throw new TypeError(`the registry container does not mount ConfigMap ${migration.configMap}`);
  }
  mount.mountPath = REGISTRY_V3.configDir;
  delete mount.subPath;
  // `serve <path>` makes the path explicit: the same args work for 2.x and 3.x binaries.
  container.args = ["serve", REGISTRY_V3.configPath];
  if (Array.isArray(container.command) && container.command.includes("serve")) delete container.command;
  const env = (container.env ?? []).filter((e) => e.name !== REGISTRY_V3.tracingEnv.name);
  env.push({ ...REGISTRY_V3.tracingEnv });
  container.env = env;
  if (migration.checksum && copy.spec) {
    copy.spec.template.metadata ??= {};
    const metadata = copy.spec.template.metadata;
    metadata.annotations = {
      ...metadata.annotations,
      [migration.checksum.annotation]: migration.checksum.value,
    };
  }
  return copy;
}

/** Does this Deployment already run the 3.x layout (config at the v3 path, tracing off)? */
export function hasV3Layout(deployment: V1Deployment): boolean {
  const container = registryContainer(deployment);
  return (
    configPathOf(container, 3) === REGISTRY_V3.configPath &&
    (container?.env ?? []).some((e) => e.name === REGISTRY_V3.tracingEnv.name)
  );
}
