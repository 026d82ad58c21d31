/**
 * How a registry container is started for real: which config file the image would read, and what the
 * process must be told so that it reads exactly what the pod would read. Which binary runs it is
 * registry-binaries.ts's choice; what the configuration may contain is the binary's own business.
 *
 * The user's config file is never edited. Paths inside it that point into the container are redirected
 * by env overrides (the registry reads any key from REGISTRY_<PATH>, env winning over the file:
 * distribution docs/configuration.md, "Override specific configuration options"): the storage root,
 * the htpasswd file, TLS files, and the listen addresses, which move to per-pod loopback ports.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { RegistryMajor } from "./image.js";
import { hostPathOf, type MountTable } from "./volumes.js";

// biome-ignore lint/suspicious/noExplicitAny: container specs and parsed YAML are plain JSON
type Json = any;

/**
 * The config file each image reads when nothing else is named: its CMD. registry:2 images
 * (distribution-library-image 2.x Dockerfile: `CMD ["/etc/docker/registry/config.yml"]`) and registry:3
 * (distribution v3 docs/content/about/configuration.md, "Overriding the entire configuration file":
 * `-v config.yml:/etc/distribution/config.yml registry:3`). v3 has no fallback to the old path.
 */
export const IMAGE_CONFIG_PATH: Record<RegistryMajor, string> = {
  2: "/etc/docker/registry/config.yml",
  3: "/etc/distribution/config.yml",
};

/**
 * The config files the images ship: filesystem storage at /var/lib/registry (an image VOLUME, i.e. not
 * on any claim), no auth. v2: distribution-library-image 2.8 `config-example.yml`. v3: the same
 * repository's v3 `config-example.yml`.
 */
export const IMAGE_CONFIG: Record<RegistryMajor, string> = {
  2: `version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
`,
  3: `version: 0.1
log:
  level: debug
  fields:
    service: registry
    environment: development
storage:
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
  tag:
    concurrencylimit: 8
http:
  addr: :5000
  debug:
    addr: :5001
    prometheus:
      enabled: true
      path: /metrics
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
`,
};

/** The filesystem driver's default root when the config names none. */
const DEFAULT_ROOT = "/var/lib/registry";

/** Keys under `storage` that configure the registry rather than name a driver (2.8.2 and v3). */
const STORAGE_SETTINGS = new Set(["maintenance", "cache", "delete", "redirect", "tag"]);

/**
 * What the container runs, read from command/args the way the image's entrypoint does: a first argument
 * ending in .yml/.yaml means `registry serve <it>`; serve/garbage-collect/help/flags go to the registry;
 * an explicit command must be the registry binary. Only `serve` is a long-running process the sandbox
 * runs; anything else (`sh -c ...`, garbage-collect) stays simulated, so undefined.
 */
export function serveArguments(container: Json, major: RegistryMajor): { configPath?: string } | undefined {
  let argv: string[];
  const command: string[] | undefined = container.command;
  const args: string[] | undefined = container.args;
  if (command && command.length > 0) {
    const binary = command[0]!.split("/").pop();
    if (binary !== "registry" && binary !== "docker-registry") return undefined;
    argv = [...command.slice(1), ...(args ?? [])];
  } else {
    const given = args && args.length > 0 ? args : [IMAGE_CONFIG_PATH[major]];
    argv = /\.ya?ml$/.test(given[0]!) ? ["serve", ...given] : given;
  }
  if (argv[0] !== "serve") return undefined;
  const configPath = argv.slice(1).find((arg) => !arg.startsWith("-"));
  return configPath === undefined ? {} : { configPath };
}

export interface LaunchPlan {
  args: string[];
  env: Record<string, string>;
  /** Container port -> host port on 127.0.0.1 (the API port and, when configured, the debug port). */
  ports: Map<number, number>;
}

export interface LaunchInput {
  major: RegistryMajor;
  container: Json;
  mounts: MountTable;
  /** The container's resolved environment. */
  env: Record<string, string>;
  freePort(): Promise<number>;
}

function portOf(addr: string | undefined): number | undefined {
  const match = /:(\d+)$/.exec(addr ?? "");
  return match ? Number(match[1]) : undefined;
}

function storageDriver(config: Json, env: Record<string, string>): string | undefined {
  if (env.REGISTRY_STORAGE) return env.REGISTRY_STORAGE.toLowerCase();
  const storage = config?.storage;
  if (typeof storage === "string") return storage;
  if (!storage || typeof storage !== "object") return undefined;
  return Object.keys(storage).find((key) => !STORAGE_SETTINGS.has(key));
}

async function readConfig(hostPath: string): Promise<Json | undefined> {
  let text: string;
  try {
    text = await readFile(hostPath, "utf8");
  } catch {
    return undefined; // the binary reports a missing file itself, in its own words
  }
  try {
    const { parse } = await import("yaml");
    // Go's yaml.v2, the registry's parser, reads YAML 1.1.
    return parse(text, { version: "1.1" });
  } catch {
    return undefined; // likewise for a file it cannot parse
  }
}

/** Writes the image's own config file into the container file system, unless a volume covers its path. */
async function placeImageConfig(input: LaunchInput): Promise<void> {
  const path = IMAGE_CONFIG_PATH[input.major];
  const where = hostPathOf(input.mounts, path);
  if (where.mounted) return;
  await mkdir(dirname(where.hostPath), { recursive: true });
  await writeFile(where.hostPath, IMAGE_CONFIG[input.major]);
}

export async function planLaunch(input: LaunchInput): Promise<LaunchPlan> {
  const { env, mounts, major } = input;
  await placeImageConfig(input);
  const serve = serveArguments(input.container, major) ?? {};
  const containerConfigPath = serve.configPath ?? env.REGISTRY_CONFIGURATION_PATH;
  const hostConfigPath = containerConfigPath ? hostPathOf(mounts, containerConfigPath).hostPath : undefined;
  const config = hostConfigPath ? await readConfig(hostConfigPath) : undefined;

  const overrides: Record<string, string> = {};
  const redirect = async (variable: string, containerPath: string | undefined, directory: boolean) => {
    if (!containerPath) return;
    const { hostPath } = hostPathOf(mounts, containerPath);
    if (directory) await mkdir(hostPath, { recursive: true });
    overrides[variable] = hostPath;
  };
  if (serve.configPath === undefined && env.REGISTRY_CONFIGURATION_PATH)
    await redirect("REGISTRY_CONFIGURATION_PATH", env.REGISTRY_CONFIGURATION_PATH, false);
  if (storageDriver(config, env) === "filesystem") {
    const root =
      env.REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY ??
      config?.storage?.filesystem?.rootdirectory ??
      DEFAULT_ROOT;
    // A root outside every mounted volume lands in the pod's own file system and goes with the pod:
    // the real outcome of forgetting rootdirectory (the image VOLUME), PVC left empty.
    await redirect("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY", String(root), true);
  }
  await redirect(
    "REGISTRY_AUTH_HTPASSWD_PATH",
    env.REGISTRY_AUTH_HTPASSWD_PATH ?? config?.auth?.htpasswd?.path,
    false,
  );
  await redirect(
    "REGISTRY_HTTP_TLS_CERTIFICATE",
    env.REGISTRY_HTTP_TLS_CERTIFICATE ?? config?.http?.tls?.certificate,
    false,
  );
  await redirect("REGISTRY_HTTP_TLS_KEY", env.REGISTRY_HTTP_TLS_KEY ?? config?.http?.tls?.key, false);

  const ports = new Map<number, number>();
  const apiPort = await input.freePort();
  overrides.REGISTRY_HTTP_ADDR = `127.0.0.1:${apiPort}`;
  const containerApiPort = portOf(env.REGISTRY_HTTP_ADDR ?? config?.http?.addr);
  if (containerApiPort !== undefined) ports.set(containerApiPort, apiPort);
  const debugAddr: string | undefined = env.REGISTRY_HTTP_DEBUG_ADDR ?? config?.http?.debug?.addr;
  if (debugAddr) {
    const debugPort = await input.freePort();
    overrides.REGISTRY_HTTP_DEBUG_ADDR = `127.0.0.1:${debugPort}`;
    const containerDebugPort = portOf(debugAddr);
    if (containerDebugPort !== undefined) ports.set(containerDebugPort, debugPort);
  }

  return {
    args: hostConfigPath ? ["serve", hostConfigPath] : ["serve"],
    // Only what the container would have: its own env, then the redirections. Nothing of this process's
    // environment leaks in (the registry reads every REGISTRY_* variable as configuration).
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env, ...overrides },
    ports,
  };
}
