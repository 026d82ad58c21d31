/**
 * `clouddrove login`'s look-ups and runs: the registry's credentials from its pull Secret (what Pods
 * pull with), which container tools this machine has, and each tool's login with the password on stdin.
 */
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { findOnPath, runLoginWithStdin } from "../../adapters/login-client.js";
import { readStoredCredentials } from "../../core/deploy/credentials.js";
import { type ClientLogin, LOGIN_TOOLS, type LoginTool, loginArgs } from "../../core/login/plan.js";
import { names } from "../../core/render/names.js";
import { OperationError } from "../../errors.js";

export interface PullCredentials {
  username: string;
  password: string;
}

export async function readPullCredentials(kube: Kube, namespace: string): Promise<PullCredentials> {
  const where = `Secret ${namespace}/${names.pullSecret}`;
  const pull = await kube.get(named(Kinds.Secret, names.pullSecret, namespace));
  // biome-ignore lint/suspicious/noExplicitAny: a Secret as it comes off the wire
  const stored = readStoredCredentials({ htpasswd: undefined, http: undefined, pull: pull as any });
  if (!stored.username || !stored.password) {
    throw new OperationError(`${where} ${pull ? "holds no user name and password" : "does not exist"}`, {
      hint: "Deploy the registry first (clouddrove deploy; it writes the pull Secret), or check --namespace and the cluster.",
    });
  }
  return { username: stored.username, password: stored.password };
}

/** Each tool's path on this machine's PATH (undefined: not installed). */
export function findLoginTools(env: NodeJS.ProcessEnv): Map<LoginTool, string | undefined> {
  return new Map(LOGIN_TOOLS.map((tool) => [tool, findOnPath(tool, env)]));
}

/** Runs `tool login` for the registry; the outcome and, on failure, the tool's own words. */
export async function runToolLogin(
  tool: { name: LoginTool; path: string },
  address: string,
  credentials: PullCredentials,
  options: { env: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal },
): Promise<ClientLogin> {
  const args = loginArgs(address, credentials.username);
  const command = [tool.name, ...args].join(" ");
  const run = await runLoginWithStdin(tool.path, args, credentials.password, options);
  return run.ok
    ? { tool: tool.name, installed: true, outcome: "logged-in", command }
    : {
        tool: tool.name,
        installed: true,
        outcome: "failed",
        command,
        message: run.output || `exit code ${run.exitCode ?? "unknown"}`,
      };
}
