/**
 * Reading a kubeconfig as kubectl does, without a Kubernetes client library: the files of KUBECONFIG
 * merged (the first file to define a name wins; the first current-context set wins), else
 * ~/.kube/config; the context chosen by --context or current-context; the cluster's server and trust;
 * the user's credentials — a token (inline or a file), a client certificate (inline or files), basic
 * auth, or an exec plugin (how `aws eks update-kubeconfig` writes EKS credentials). File paths in a
 * kubeconfig are relative to the file that names them.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { defaultKubeconfigPaths } from "../core/kubeconfig-paths.js";
import { parseSimpleYaml } from "../core/yaml/parse-simple.js";
import { CredentialsError } from "../errors.js";

/**
 * A kubeconfig's YAML: the plain subset that kubectl, kind and `aws eks update-kubeconfig` write is read
 * by the project's small reader; anything else by the yaml package, loaded only then (it costs a
 * command more than the rest of its Kubernetes client).
 */
function parse(text: string): unknown {
  const simple = parseSimpleYaml(text);
  if (simple) return simple.value;
  const yaml = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  return yaml.parse(text);
}

export interface ExecPlugin {
  command: string;
  args: string[];
  env: Record<string, string>;
  apiVersion: string;
  /** Where the kubeconfig that names it lives: a relative command runs from there. */
  baseDir: string;
  provideClusterInfo: boolean;
}

export interface ClusterAccess {
  context: string;
  /** The context's namespace, when it sets one. */
  namespace?: string;
  server: string;
  /** PEM of the CA to trust; undefined: the system's. */
  ca?: string;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  token?: string;
  tokenFile?: string;
  clientCertificate?: string;
  clientKey?: string;
  basic?: { username: string; password: string };
  exec?: ExecPlugin;
}

export interface KubeconfigSource {
  /** --kubeconfig; else KUBECONFIG from `env`, else ~/.kube/config. */
  path?: string;
  /** A kubeconfig document to use instead of files. */
  text?: string;
  /** --context; else the kubeconfig's current context. */
  context?: string;
  env: NodeJS.ProcessEnv;
}

interface Named<T> {
  name: string;
  value: T;
  baseDir: string;
}

interface Merged {
  currentContext?: string;
  clusters: Map<string, Named<Record<string, unknown>>>;
  users: Map<string, Named<Record<string, unknown>>>;
  contexts: Map<string, Named<Record<string, unknown>>>;
}

function mergeDocument(merged: Merged, document: unknown, baseDir: string): void {
  if (document === null || document === undefined) return;
  if (typeof document !== "object" || Array.isArray(document))
    throw new Error("it is not a kubeconfig document");
  const doc = document as Record<string, unknown>;
  if (
    merged.currentContext === undefined &&
    typeof doc["current-context"] === "string" &&
    doc["current-context"]
  )
    merged.currentContext = doc["current-context"] as string;
  const add = (
    list: unknown,
    key: "cluster" | "user" | "context",
    into: Map<string, Named<Record<string, unknown>>>,
  ) => {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) throw new Error(`its ${key}s are not a list`);
    for (const entry of list as Array<Record<string, unknown>>) {
      const name = entry?.name;
      if (typeof name !== "string" || into.has(name)) continue;
      into.set(name, { name, value: (entry[key] as Record<string, unknown>) ?? {}, baseDir });
    }
  };
  add(doc.clusters, "cluster", merged.clusters);
  add(doc.users, "user", merged.users);
  add(doc.contexts, "context", merged.contexts);
}

function readMerged(source: KubeconfigSource): { merged: Merged; where: string } {
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map() };
  if (source.text !== undefined) {
    try {
      mergeDocument(merged, parse(source.text), process.cwd());
    } catch (error) {
      throw new CredentialsError(`The kubeconfig (given) could not be read: ${(error as Error).message}`, {
        hint: "Fix the file or point --kubeconfig at another one.",
      });
    }
    return { merged, where: "(given)" };
  }
  const paths = source.path ? [source.path] : defaultKubeconfigPaths(source.env);
  const existing = paths.filter((path) => existsSync(path));
  if (existing.length === 0) {
    const path = paths[0];
    throw new CredentialsError(`No kubeconfig found${path ? ` at ${path}` : ""}.`, {
      hint: "Point --kubeconfig at one, or create the context with `clouddrove cluster create` (or `aws eks update-kubeconfig`).",
    });
  }
  for (const path of existing) {
    try {
      mergeDocument(merged, parse(readFileSync(path, "utf8")), dirname(path));
    } catch (error) {
      throw new CredentialsError(`The kubeconfig ${path} could not be read: ${(error as Error).message}`, {
        hint: "Fix the file or point --kubeconfig at another one.",
      });
    }
  }
  return { merged, where: existing.join(delimiter) };
}

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

/** Inline base64 data, else a file named relative to its kubeconfig. */
function pem(data: unknown, file: unknown, baseDir: string, what: string): string | undefined {
  const inline = text(data);
  if (inline) return Buffer.from(inline, "base64").toString("utf8");
  const path = text(file);
  if (!path) return undefined;
  const resolved = isAbsolute(path) ? path : join(baseDir, path);
  try {
    return readFileSync(resolved, "utf8");
  } catch (error) {
    throw new CredentialsError(`The kubeconfig names ${what} ${resolved}, which could not be read.`, {
      cause: error,
      hint: "Fix the path in the kubeconfig, or write the kubeconfig again.",
    });
  }
}

function execPlugin(value: unknown, baseDir: string): ExecPlugin | undefined {
  if (!value || typeof value !== "object") return undefined;
  const exec = value as Record<string, unknown>;
  const command = text(exec.command);
  if (!command) return undefined;
  const env: Record<string, string> = {};
  for (const entry of (Array.isArray(exec.env) ? exec.env : []) as Array<Record<string, unknown>>) {
    if (typeof entry?.name === "string") env[entry.name] = String(entry.value ?? "");
  }
  return {
    command,
    args: (Array.isArray(exec.args) ? exec.args : []).map(String),
    env,
    apiVersion: text(exec.apiVersion) ?? "client.authentication.k8s.io/v1",
    baseDir,
    provideClusterInfo: exec.provideClusterInfo === true,
  };
}

/** The cluster, trust and credentials of the chosen context; CredentialsError (exit 4) naming what is missing. */
export function resolveKubeconfig(source: KubeconfigSource): ClusterAccess {
  const { merged } = readMerged(source);
  const names = [...merged.contexts.keys()];
  const contextName = source.context ?? merged.currentContext;
  if (source.context && !merged.contexts.has(source.context)) {
    throw new CredentialsError(`The kubeconfig has no context named ${source.context}.`, {
      hint: `Use one of: ${names.join(", ") || "(none)"} (--context).`,
    });
  }
  const context = contextName ? merged.contexts.get(contextName) : undefined;
  const cluster = context ? merged.clusters.get(String(context.value.cluster ?? "")) : undefined;
  const server = text(cluster?.value.server);
  if (!context || !cluster || !server) {
    throw new CredentialsError("The kubeconfig has no current context with a cluster.", {
      hint: "Pass --context NAME, or run `clouddrove cluster create` to write one.",
    });
  }
  const user = merged.users.get(String(context.value.user ?? ""));
  const u = user?.value ?? {};
  const userDir = user?.baseDir ?? cluster.baseDir;
  if (u["auth-provider"]) {
    throw new CredentialsError(
      `The user of context ${context.name} uses an auth-provider plugin, which Kubernetes clients no longer support.`,
      {
        hint: "Write the context again with an exec plugin (for EKS: `aws eks update-kubeconfig --name CLUSTER`).",
      },
    );
  }
  const tokenFile = text(u.tokenFile);
  const username = text(u.username);
  return {
    context: context.name,
    namespace: text(context.value.namespace),
    server,
    ca: pem(
      cluster.value["certificate-authority-data"],
      cluster.value["certificate-authority"],
      cluster.baseDir,
      "the CA certificate",
    ),
    insecureSkipTlsVerify: cluster.value["insecure-skip-tls-verify"] === true,
    tlsServerName: text(cluster.value["tls-server-name"]),
    token: text(u.token),
    tokenFile: tokenFile && !isAbsolute(tokenFile) ? join(userDir, tokenFile) : tokenFile,
    clientCertificate: pem(
      u["client-certificate-data"],
      u["client-certificate"],
      userDir,
      "the client certificate",
    ),
    clientKey: pem(u["client-key-data"], u["client-key"], userDir, "the client key"),
    basic: username ? { username, password: String(u.password ?? "") } : undefined,
    exec: execPlugin(u.exec, userDir),
  };
}
