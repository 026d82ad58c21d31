/**
 * Reading the registry's credentials back from the Secrets a previous deploy wrote, so a re-deploy never
 * rotates them silently: the password from the pull Secret, the htpasswd line (with its bcrypt salt, so
 * the pod template's checksum stays the same) and the shared http.secret.
 */
import type { V1Secret } from "@kubernetes/client-node";
import { names } from "../render/names.js";

/** Undefined where the Secret does not exist (a first deploy). */
type Secret = V1Secret | undefined;

export interface StoredCredentials {
  username?: string;
  password?: string;
  htpasswd?: string;
  httpSecret?: string;
}

const decode = (value: unknown): string | undefined =>
  typeof value === "string" ? Buffer.from(value, "base64").toString("utf8") : undefined;

export function readStoredCredentials(secrets: {
  htpasswd: Secret;
  http: Secret;
  pull: Secret;
}): StoredCredentials {
  const stored: StoredCredentials = {};
  // The first line is the registry user's (a rotation adds a temporary user's after it).
  const line = decode(secrets.htpasswd?.data?.[names.secretKeys.htpasswd])?.trim().split("\n")[0]?.trim();
  if (line && /^[^:\s]+:\$2[aby]\$\d\d\$.{53}$/.test(line)) {
    stored.htpasswd = line;
    stored.username = line.slice(0, line.indexOf(":"));
  }
  stored.httpSecret = decode(secrets.http?.data?.[names.secretKeys.httpSecret]) || undefined;
  const dockerConfig = decode(secrets.pull?.data?.[names.secretKeys.dockerConfig]);
  if (dockerConfig) {
    try {
      const auths = Object.values(JSON.parse(dockerConfig).auths ?? {}) as Array<{
        username?: string;
        password?: string;
      }>;
      const entry = auths.find((a) => a.username === stored.username) ?? auths[0];
      if (entry?.password) stored.password = entry.password;
      // Half-way through a rotation the pull Secret holds the temporary user: what clients log in with.
      if (entry?.password && entry.username) stored.username = entry.username;
    } catch {
      // A hand-edited, unparsable pull secret is treated as absent: deploy rewrites it from the password.
    }
  }
  return stored;
}

/** Complete only when the htpasswd line, the password it hashes and the http secret are all present. */
export function isComplete(stored: StoredCredentials): stored is Required<StoredCredentials> {
  return Boolean(stored.htpasswd && stored.password && stored.httpSecret && stored.username);
}
