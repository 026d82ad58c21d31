/**
 * The sandbox's kubeconfig: a cluster at the server's URL (its certificate as the CA), a user with the static bearer token the server
 * accepts, and a context (default `clouddrove-sandbox`). Written into an existing kubeconfig without
 * disturbing its other entries, atomically and readable by the owner only.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parse, stringify } from "yaml";

export const SANDBOX_CONTEXT = "clouddrove-sandbox";

export interface KubeconfigInput {
  server: string;
  token: string;
  /** PEM of the server's (self-signed) certificate, trusted as the cluster's CA. */
  certificateAuthority: string;
  contextName?: string;
  namespace?: string;
}

interface Named {
  name: string;
  [key: string]: unknown;
}

interface KubeconfigDocument {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
  "current-context"?: string;
  preferences?: Record<string, unknown>;
  [key: string]: unknown;
}

function entries(input: KubeconfigInput) {
  const name = input.contextName ?? SANDBOX_CONTEXT;
  return {
    name,
    cluster: {
      name,
      cluster: {
        server: input.server,
        "certificate-authority-data": Buffer.from(input.certificateAuthority).toString("base64"),
      },
    },
    user: { name, user: { token: input.token } },
    context: {
      name,
      context: { cluster: name, user: name, ...(input.namespace ? { namespace: input.namespace } : {}) },
    },
  };
}

/** A complete kubeconfig (YAML text) whose current context is the sandbox. */
export function kubeconfigYaml(input: KubeconfigInput): string {
  const { name, cluster, user, context } = entries(input);
  const document: KubeconfigDocument = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [cluster],
    users: [user],
    contexts: [context],
    "current-context": name,
    preferences: {},
  };
  return stringify(document);
}

function upsert(list: Named[] | undefined, entry: Named): Named[] {
  const rest = (list ?? []).filter((item) => item?.name !== entry.name);
  return [...rest, entry];
}

/**
 * Adds (or replaces) the sandbox's cluster, user and context in the kubeconfig at `path`, creating the
 * file when missing. The current context changes only when the file had none.
 */
export function writeKubeconfigFile(path: string, input: KubeconfigInput): void {
  const { name, cluster, user, context } = entries(input);
  let document: KubeconfigDocument = { apiVersion: "v1", kind: "Config", preferences: {} };
  if (existsSync(path)) {
    const text = readFileSync(path, "utf8");
    const parsed = text.trim() === "" ? {} : (parse(text) as KubeconfigDocument | null);
    document = { ...document, ...(parsed ?? {}) };
  }
  document.clusters = upsert(document.clusters, cluster);
  document.users = upsert(document.users, user);
  document.contexts = upsert(document.contexts, context);
  if (!document["current-context"]) document["current-context"] = name;
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, stringify(document), { mode: 0o600 });
  renameSync(temporary, path);
}
