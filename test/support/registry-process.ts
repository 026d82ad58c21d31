/**
 * Runs a real registry binary (Debian's docker-registry, CNCF Distribution 2.8.2, or Distribution v3.0.0
 * as scripts/components.sh builds it) the way a replica of the Deployment runs it: the rendered config.yml with only what must differ on this machine rewritten
 * (storage root, htpasswd path, loopback ports), the Deployment's arguments and environment, and nothing
 * inherited from the test runner's environment that the registry would read as configuration.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../sandbox/src/runtime/ports.js";
import {
  DISTRIBUTION_VERSION,
  distributionBinaryPath,
  isExecutable,
} from "../../sandbox/src/runtime/registry-binaries.js";
import type { KubeObject } from "../../src/core/render/index.js";

export const REGISTRY_BINARY = "docker-registry";

/**
 * Distribution v3.0.0's registry, where scripts/components.sh builds it (the sandbox runs the same file
 * for registry:3.x pods). A test that needs it fails, naming the script, when it is not built.
 */
export function distributionBinary(): string {
  const path = distributionBinaryPath();
  if (!isExecutable(path))
    throw new Error(`Distribution ${DISTRIBUTION_VERSION} is not built (${path}): run scripts/components.sh`);
  return path;
}

// The same choice of port as the sandbox's (below the ephemeral range: see ports.ts).
export { freePort };

export interface LocalRewrite {
  rootDirectory: string;
  htpasswdPath: string;
  port: number;
  debugPort: number;
  /** Where the server certificate and key were written, when the config serves TLS. */
  tls?: { certificatePath: string; keyPath: string };
}

/** The rendered config.yml with the machine-specific values replaced (set by path, nothing else touched). */
export async function localConfig(renderedConfig: string, rewrite: LocalRewrite): Promise<string> {
  const { parseDocument } = await import("yaml");
  const doc = parseDocument(renderedConfig, { version: "1.1" });
  const set = (path: string[], value: string) => {
    if (!doc.hasIn(path)) throw new Error(`the rendered config has no ${path.join(".")}`);
    doc.setIn(path, value);
  };
  set(["storage", "filesystem", "rootdirectory"], rewrite.rootDirectory);
  set(["auth", "htpasswd", "path"], rewrite.htpasswdPath);
  set(["http", "addr"], `127.0.0.1:${rewrite.port}`);
  set(["http", "debug", "addr"], `127.0.0.1:${rewrite.debugPort}`);
  if (rewrite.tls) {
    set(["http", "tls", "certificate"], rewrite.tls.certificatePath);
    set(["http", "tls", "key"], rewrite.tls.keyPath);
  } else if (doc.hasIn(["http", "tls"])) {
    throw new Error("the rendered config serves TLS but the replica has no certificate");
  }
  return doc.toString();
}

/** What one replica of the rendered Deployment gets: its container args, env (Secrets resolved), files. */
export interface ReplicaSpec {
  args: string[];
  env: Record<string, string>;
  configYml: string;
  htpasswd: string;
  /** The server certificate and key the pod mounts (tls.mode private-ca), read from the rendered Secret. */
  tls?: { certificate: string; key: string; mountPath: string };
}

// biome-ignore lint/suspicious/noExplicitAny: reads into rendered JSON objects
type Any = any;

export function replicaSpec(objects: KubeObject[], containerName = "registry"): ReplicaSpec {
  const find = (kind: string, name: string): Any => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name} among the rendered objects`);
    return found;
  };
  const deployment = objects.find((o) => o.kind === "Deployment") as Any;
  const pod = deployment.spec.template.spec;
  const container = pod.containers.find((c: Any) => c.name === containerName);
  const secretValue = (name: string, key: string) =>
    Buffer.from(find("Secret", name).data[key], "base64").toString("utf8");

  const env: Record<string, string> = {};
  // What the kubelet would resolve: Secret references and the pod's namespace (the only fieldRef used).
  const fieldValue = (path: string) => {
    if (path !== "metadata.namespace") throw new Error(`replicaSpec: no value for fieldRef ${path}`);
    return deployment.metadata.namespace;
  };
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    const field = variable.valueFrom?.fieldRef;
    env[variable.name] = ref
      ? secretValue(ref.name, ref.key)
      : field
        ? fieldValue(field.fieldPath)
        : variable.value;
  }
  const volume = (name: string) => pod.volumes.find((v: Any) => v.name === name);
  const configMap = find("ConfigMap", volume("config").configMap.name);
  const auth = volume("auth").secret;
  const tlsVolume = volume("tls")?.secret;
  const tlsMount = (container.volumeMounts ?? []).find((m: Any) => m.name === "tls");
  return {
    args: container.args,
    env,
    configYml: configMap.data["config.yml"],
    htpasswd: secretValue(auth.secretName, auth.items[0].key),
    ...(tlsVolume
      ? {
          tls: {
            certificate: secretValue(tlsVolume.secretName, "tls.crt"),
            key: secretValue(tlsVolume.secretName, "tls.key"),
            mountPath: tlsMount.mountPath,
          },
        }
      : {}),
  };
}

export interface RegistryProcess {
  baseUrl: string;
  debugUrl: string;
  /** Everything the process printed so far (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  replica: ReplicaSpec;
  /** The shared storage directory (the volume every replica mounts). */
  rootDirectory: string;
  /** Overrides of the replica's env, e.g. another REGISTRY_HTTP_SECRET. */
  env?: Record<string, string>;
  /** The registry binary (default: Debian's docker-registry, 2.8.2). */
  binary?: string;
}

/** Starts one replica on free loopback ports and waits until GET / answers. */
export async function startRegistry(options: StartOptions): Promise<RegistryProcess> {
  const dir = await mkdtemp(join(tmpdir(), "clouddrove-registry-"));
  const [port, debugPort] = [await freePort(), await freePort()];
  const htpasswdPath = join(dir, "htpasswd");
  const configPath = join(dir, "config.yml");
  await writeFile(htpasswdPath, options.replica.htpasswd, { mode: 0o444 });
  const served = options.replica.tls;
  const tls = served ? { certificatePath: join(dir, "tls.crt"), keyPath: join(dir, "tls.key") } : undefined;
  if (served && tls) {
    await writeFile(tls.certificatePath, served.certificate, { mode: 0o444 });
    await writeFile(tls.keyPath, served.key, { mode: 0o400 });
  }
  await writeFile(
    configPath,
    await localConfig(options.replica.configYml, {
      rootDirectory: options.rootDirectory,
      htpasswdPath,
      port,
      debugPort,
      tls,
    }),
  );

  // The container's args name the config file; here it is the local copy.
  const args = options.replica.args.map((arg) => (arg.endsWith("config.yml") ? configPath : arg));
  const child = spawn(options.binary ?? REGISTRY_BINARY, args, {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...options.replica.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = once(child, "exit");

  const baseUrl = `${served ? "https" : "http"}://127.0.0.1:${port}`;
  const stop = async () => {
    await stopProcess(child, exited);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(baseUrl, child);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- registry output ---\n${output}`);
  }
  return { baseUrl, debugUrl: `http://127.0.0.1:${debugPort}`, logs: () => output, stop };
}

/** GET / once; over HTTPS without checking the certificate (the tests check it themselves). */
function answersRoot(baseUrl: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const get = baseUrl.startsWith("https:") ? httpsGet : httpGet;
    const req = get(`${baseUrl}/`, { rejectUnauthorized: false, timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

async function waitUntilServing(baseUrl: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the registry exited with ${child.exitCode} at start`);
    try {
      if ((await answersRoot(baseUrl)) === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the registry did not answer on ${baseUrl} within 15 s`);
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
export async function stopProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  // http.draintimeout lets open requests finish; idle connections close at once. Never wait forever.
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Runs `docker-registry garbage-collect <flags> CONFIG` on a stopped store; returns the exit code and output. */
export async function garbageCollect(
  replica: ReplicaSpec,
  rootDirectory: string,
  flags: string[],
): Promise<{ code: number | null; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), "clouddrove-gc-"));
  try {
    const configPath = join(dir, "config.yml");
    const htpasswdPath = join(dir, "htpasswd");
    await writeFile(htpasswdPath, replica.htpasswd);
    const [port, debugPort] = [await freePort(), await freePort()];
    const tls = replica.tls
      ? { certificatePath: join(dir, "tls.crt"), keyPath: join(dir, "tls.key") }
      : undefined;
    if (replica.tls && tls) {
      await writeFile(tls.certificatePath, replica.tls.certificate);
      await writeFile(tls.keyPath, replica.tls.key, { mode: 0o400 });
    }
    await writeFile(
      configPath,
      await localConfig(replica.configYml, { rootDirectory, htpasswdPath, port, debugPort, tls }),
    );
    const child = spawn(REGISTRY_BINARY, ["garbage-collect", ...flags, configPath], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...replica.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    // "close", not "exit": the output pipes are drained by then.
    const [code] = (await once(child, "close")) as [number | null];
    return { code, output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
