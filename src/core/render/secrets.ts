/**
 * The three Secrets: the htpasswd file, the shared http.secret and the pull credentials. Values are
 * written as `data` (base64), the form the API server stores and returns, so a re-apply compares equal.
 */
import { UsageError } from "../../errors.js";
import { names } from "./names.js";
import { findObject } from "./paths.js";
import type { KubeObject, RegistryCredentials } from "./types.js";

// The registry accepts bcrypt entries only and silently ignores any other line: a wrong line would not
// fail, it would just make every login fail. $2a$, $2b$ (bcryptjs) and $2y$ (Apache htpasswd) are all
// bcrypt and all accepted by Go's bcrypt package.
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

export function checkCredentials(credentials: RegistryCredentials): void {
  const { username, password, httpSecret, htpasswd } = credentials;
  const problems: string[] = [];
  if (!/^[^:\s]+$/.test(username)) problems.push("the user name is empty or holds ':' or white space");
  if (password === "") problems.push("the password is empty");
  if (httpSecret === "") problems.push("the http secret is empty");
  // One line per user; two while a password rotation runs (core/deploy/rotation.ts).
  const entries = htpasswd
    .trim()
    .split("\n")
    .map((line) => line.split(":"));
  const malformed = entries.some(
    ([user, hash, extra]) => !user || hash === undefined || extra !== undefined || !BCRYPT.test(hash),
  );
  if (malformed || !entries.some(([user]) => user === username)) {
    problems.push(
      `the htpasswd file holds a line that is not a bcrypt entry, or no bcrypt entry for user '${username}' ("${username}:$2y$10$...")`,
    );
  }
  if (problems.length > 0) {
    throw new UsageError(`The registry credentials cannot be used: ${problems.join("; ")}`, {
      hint: "Set CLOUDDROVE_REGISTRY_PASSWORD to a non-empty password, or delete the registry Secrets to have new ones generated.",
    });
  }
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** The dockerconfigjson document for pulling from the registry: its in-cluster name and pullHosts. */
export function dockerConfigJson(namespace: string, credentials: RegistryCredentials): string {
  const { username, password } = credentials;
  const entry = { username, password, auth: base64(`${username}:${password}`) };
  const hosts = [names.serviceHost(namespace), ...(credentials.pullHosts ?? [])];
  return JSON.stringify({ auths: Object.fromEntries(hosts.map((host) => [host, entry])) });
}

/** A Secret's data from plain-text values (base64-encoded, as the API stores them); no stringData left. */
export function setSecretData(secret: KubeObject, data: Record<string, string>): void {
  delete secret.stringData;
  secret.data = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, base64(value)]));
}

export function applySecrets(
  objects: KubeObject[],
  namespace: string,
  credentials: RegistryCredentials,
): void {
  setSecretData(findObject(objects, "Secret", names.htpasswdSecret), {
    [names.secretKeys.htpasswd]: `${credentials.htpasswd.trim()}\n`,
  });
  setSecretData(findObject(objects, "Secret", names.httpSecret), {
    [names.secretKeys.httpSecret]: credentials.httpSecret,
  });
  setSecretData(findObject(objects, "Secret", names.pullSecret), {
    [names.secretKeys.dockerConfig]: dockerConfigJson(namespace, credentials),
  });
}
