/**
 * A real image pull, as containerd's CRI plugin does it for the kubelet, reduced to what decides whether
 * a Pod can start: resolve the tag to its manifest and fetch the image's config blob, over TLS, from the
 * registry the image names (HOST:PORT/repository:tag), trusting what the node's certs.d says about that
 * registry (hosts.toml's `ca`, else Docker's *.crt pattern) and authenticating with the Pod's
 * imagePullSecrets (Basic, or Distribution's token flow). A failure carries containerd's wording of the
 * real cause: x509 unknown authority, 401 Unauthorized, not found.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";

export interface PullInput {
  image: string;
  /** The node's /etc/containerd/certs.d (a directory of the sandbox's node). */
  certsDir: string;
  /** `.dockerconfigjson` texts of the Pod's imagePullSecrets, in order. */
  dockerConfigs: string[];
  timeoutMs?: number;
}

export type PullResult = { ok: true; manifestDigest: string } | { ok: false; reason: string };

interface ImageName {
  hostPort: string;
  repository: string;
  reference: string;
}

/** HOST:PORT/path/name[:tag][@digest]; undefined when the first part is not a host with a port. */
export function parseImageName(image: string): ImageName | undefined {
  const slash = image.indexOf("/");
  if (slash < 0) return undefined;
  const hostPort = image.slice(0, slash);
  if (!/^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):\d+$/.test(hostPort)) return undefined;
  const rest = image.slice(slash + 1);
  const at = rest.indexOf("@");
  if (at >= 0) return { hostPort, repository: rest.slice(0, at), reference: rest.slice(at + 1) };
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    return { hostPort, repository: rest.slice(0, colon), reference: rest.slice(colon + 1) };
  }
  return { hostPort, repository: rest, reference: "latest" };
}

/** The CA files containerd would use for the registry: hosts.toml's `ca`, else the directory's *.crt. */
async function trustedCas(certsDir: string, hostPort: string): Promise<string[]> {
  const dir = join(certsDir, hostPort);
  const hostsToml = await readFile(join(dir, "hosts.toml"), "utf8").catch(() => undefined);
  let files: string[];
  if (hostsToml !== undefined) {
    const value = /^\s*ca\s*=\s*(.+)$/m.exec(hostsToml)?.[1]?.trim() ?? "";
    files = [...value.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
  } else {
    files = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith(".crt"));
  }
  const cas = await Promise.all(
    files.map((file) =>
      readFile(file.startsWith("/") ? file : join(dir, file), "utf8").catch(() => undefined),
    ),
  );
  return cas.filter((ca): ca is string => ca !== undefined);
}

function credentialsFor(dockerConfigs: string[], hostPort: string): string | undefined {
  for (const text of dockerConfigs) {
    let auths: Record<string, { auth?: string; username?: string; password?: string }> = {};
    try {
      auths = JSON.parse(text).auths ?? {};
    } catch {
      continue;
    }
    for (const [key, entry] of Object.entries(auths)) {
      const host = key.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
      if (host !== hostPort) continue;
      if (entry.auth) return entry.auth;
      if (entry.username !== undefined)
        return Buffer.from(`${entry.username}:${entry.password ?? ""}`).toString("base64");
    }
  }
  return undefined;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

class PullError extends Error {}

function get(
  url: string,
  headers: Record<string, string>,
  cas: string[],
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // No CA from certs.d: the system's roots only, as containerd does.
    // A connection of its own (no keep-alive pool): each pull verifies the certificate afresh.
    const req = request(url, {
      method: "GET",
      agent: false,
      headers,
      ...(cas.length > 0 ? { ca: cas } : {}),
      timeout: timeoutMs,
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new PullError(`dial tcp: i/o timeout`)));
    req.on("error", (error: NodeJS.ErrnoException) => reject(tlsReason(error)));
    req.end();
  });
}

/** Node's TLS and socket errors in the words of Go's crypto/tls and net, which containerd reports. */
function tlsReason(error: NodeJS.ErrnoException): Error {
  if (error instanceof PullError) return error;
  const code = error.code ?? "";
  if (
    [
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      "SELF_SIGNED_CERT_IN_CHAIN",
      "DEPTH_ZERO_SELF_SIGNED_CERT",
      "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    ].includes(code)
  ) {
    return new PullError("tls: failed to verify certificate: x509: certificate signed by unknown authority");
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new PullError(`tls: failed to verify certificate: x509: ${error.message}`);
  }
  if (code === "ECONNREFUSED") return new PullError("connect: connection refused");
  return new PullError(error.message);
}

const MANIFEST_ACCEPT = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
].join(", ");

/** A GET that answers a 401 challenge as containerd's resolver does: Basic, or a token from the realm. */
async function authorizedGet(
  url: string,
  accept: string,
  auth: { basic?: string; cas: string[]; timeoutMs: number; scope: string },
): Promise<Answer> {
  const first = await get(url, { Accept: accept }, auth.cas, auth.timeoutMs);
  if (first.status !== 401) return first;
  const challenge = String(first.headers["www-authenticate"] ?? "");
  if (/^Basic/i.test(challenge)) {
    if (!auth.basic) return first;
    return get(url, { Accept: accept, Authorization: `Basic ${auth.basic}` }, auth.cas, auth.timeoutMs);
  }
  const realm = /realm="([^"]+)"/.exec(challenge)?.[1];
  if (!/^Bearer/i.test(challenge) || !realm) return first;
  const service = /service="([^"]+)"/.exec(challenge)?.[1];
  const tokenUrl = new URL(realm);
  if (service) tokenUrl.searchParams.set("service", service);
  tokenUrl.searchParams.set("scope", auth.scope);
  const tokenAnswer = await get(
    tokenUrl.toString(),
    auth.basic ? { Authorization: `Basic ${auth.basic}` } : {},
    auth.cas,
    auth.timeoutMs,
  );
  if (tokenAnswer.status !== 200) return { ...tokenAnswer, status: 401 };
  const body = JSON.parse(tokenAnswer.body.toString("utf8")) as { token?: string; access_token?: string };
  return get(
    url,
    { Accept: accept, Authorization: `Bearer ${body.token ?? body.access_token}` },
    auth.cas,
    auth.timeoutMs,
  );
}

export async function pullImage(input: PullInput): Promise<PullResult> {
  const name = parseImageName(input.image);
  if (!name) return { ok: false, reason: `${input.image}: not a HOST:PORT/repository reference` };
  const base = `https://${name.hostPort}/v2/${name.repository}`;
  const prefix = `failed to pull and unpack image "${input.image}"`;
  const auth = {
    basic: credentialsFor(input.dockerConfigs, name.hostPort),
    cas: await trustedCas(input.certsDir, name.hostPort),
    timeoutMs: input.timeoutMs ?? 30_000,
    scope: `repository:${name.repository}:pull`,
  };
  try {
    const manifest = await authorizedGet(`${base}/manifests/${name.reference}`, MANIFEST_ACCEPT, auth);
    if (manifest.status === 401) {
      return {
        ok: false,
        reason: `${prefix}: failed to resolve reference "${input.image}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed: 401 Unauthorized`,
      };
    }
    if (manifest.status === 404) {
      return {
        ok: false,
        reason: `${prefix}: failed to resolve reference "${input.image}": ${input.image}: not found`,
      };
    }
    if (manifest.status !== 200) {
      return {
        ok: false,
        reason: `${prefix}: failed to resolve reference "${input.image}": unexpected status ${manifest.status}`,
      };
    }
    const manifestDigest = `sha256:${createHash("sha256").update(manifest.body).digest("hex")}`;
    const digest = (JSON.parse(manifest.body.toString("utf8")) as { config?: { digest?: string } }).config
      ?.digest;
    if (!digest) return { ok: false, reason: `${prefix}: the manifest names no config blob` };
    const config = await authorizedGet(`${base}/blobs/${digest}`, "*/*", auth);
    if (config.status !== 200) {
      return {
        ok: false,
        reason: `${prefix}: failed to fetch config ${digest}: ${config.status === 404 ? "not found" : `unexpected status ${config.status}`}`,
      };
    }
    if (`sha256:${createHash("sha256").update(config.body).digest("hex")}` !== digest) {
      return { ok: false, reason: `${prefix}: config ${digest}: digest mismatch` };
    }
    return { ok: true, manifestDigest };
  } catch (error) {
    const where = `https://${name.hostPort}/v2/${name.repository}/manifests/${name.reference}`;
    return {
      ok: false,
      reason: `${prefix}: failed to resolve reference "${input.image}": failed to do request: Head "${where}": ${(error as Error).message}`,
    };
  }
}
