/**
 * A small client of the Docker Registry HTTP API v2 (CNCF Distribution) on Node's global fetch: enough to
 * check a deployed registry, push and read back test images, and prove that replicas share upload state.
 * Every failure is an OperationError carrying the registry's own error code (BLOB_UPLOAD_INVALID,
 * DIGEST_INVALID, UNAUTHORIZED, ...) so callers and tests can tell the causes apart.
 */
import { createHash, randomBytes } from "node:crypto";
import { OperationError } from "../errors.js";
import { type Answer, exchange, type TlsTrust } from "./http-exchange.js";

export interface RegistryEndpoint {
  /** e.g. "http://127.0.0.1:5000" (no trailing path). */
  baseUrl: string;
  username?: string;
  password?: string;
  /** Deadline of one request; 120 s unless given (a large blob upload is one request). */
  timeoutMs?: number;
  /** An https baseUrl whose certificate comes from this CA (clouddrove's private CA). */
  tls?: TlsTrust;
}

export const MEDIA_TYPES = {
  manifestV2: "application/vnd.docker.distribution.manifest.v2+json",
  manifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  imageConfig: "application/vnd.docker.container.image.v1+json",
  layer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

const MANIFEST_ACCEPT = [
  MEDIA_TYPES.manifestV2,
  MEDIA_TYPES.manifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
].join(", ");

/** Hints for the error codes whose cause is known in this deployment (docs/facts.md, "The registry"). */
const HINTS: Record<string, string> = {
  UNAUTHORIZED:
    "Check the registry user name and password; the registry reads its htpasswd file once at start, so a changed Secret needs a rollout.",
  BLOB_UPLOAD_INVALID:
    "The upload was started on a replica with another http.secret: every replica must get the same REGISTRY_HTTP_SECRET.",
  BLOB_UPLOAD_UNKNOWN:
    "The upload is not known to this registry (purged, or written to other storage): start the upload again.",
  DIGEST_INVALID:
    "The bytes received do not match the digest; behind a round-robin load balancer keep sessionAffinity: ClientIP on the Service.",
  MANIFEST_BLOB_UNKNOWN: "Push every blob the manifest references before the manifest.",
  UNREACHABLE: "Check that the registry is running and that the address and port are right.",
};

/** An error answer of the registry, or no answer at all (code UNREACHABLE). */
export class RegistryApiError extends OperationError {
  readonly code: string;
  readonly status: number;

  constructor(code: string, status: number, message: string, cause?: unknown) {
    super(message, {
      hint: HINTS[code] ?? "See the registry's log for this request.",
      cause,
    });
    this.code = code;
    this.status = status;
  }
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function authHeader(e: RegistryEndpoint): Record<string, string> {
  if (e.username === undefined) return {};
  const token = Buffer.from(`${e.username}:${e.password ?? ""}`).toString("base64");
  return { Authorization: `Basic ${token}` };
}

/** Locations may be relative ("/v2/...") or absolute; the registry answers both ways. */
function absolute(e: RegistryEndpoint, location: string): string {
  return new URL(location, e.baseUrl).toString();
}

interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Statuses that are answers, not errors. */
  expect: number[];
}

async function request(e: RegistryEndpoint, url: string, options: RequestOptions): Promise<Answer> {
  const method = options.method ?? "GET";
  const target = new URL(absolute(e, url));
  let answer: Answer;
  try {
    answer = await exchange(target, {
      method,
      headers: { ...authHeader(e), ...options.headers },
      body: options.body,
      timeoutMs: e.timeoutMs ?? 120_000,
      tls: e.tls,
    });
  } catch (error) {
    throw new RegistryApiError(
      "UNREACHABLE",
      0,
      `${method} ${target} got no answer: ${(error as Error).message}`,
      error,
    );
  }
  if (options.expect.includes(answer.status)) return answer;
  throw errorFrom(method, answer);
}

function errorFrom(method: string, answer: Answer): RegistryApiError {
  const text = answer.body.toString("utf8");
  let code = statusCode(answer.status);
  let detail = text.trim();
  try {
    const parsed = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    const first = parsed.errors?.[0];
    if (first?.code) {
      code = first.code;
      detail = first.message ?? first.code;
    }
  } catch {
    // Not JSON (a proxy's page, or an empty HEAD answer): keep the status-derived code.
  }
  return new RegistryApiError(
    code,
    answer.status,
    `${method} ${answer.url.origin}${answer.url.pathname} failed with ${answer.status} ${code}${detail ? `: ${detail}` : ""}`,
  );
}

function statusCode(status: number): string {
  if (status === 401) return "UNAUTHORIZED";
  if (status === 403) return "DENIED";
  if (status === 404) return "NOT_FOUND";
  if (status === 416) return "RANGE_INVALID";
  if (status === 503) return "UNAVAILABLE";
  return `HTTP_${status}`;
}

function repoPath(repo: string): string {
  return repo
    .split("/")
    .map((part) => encodeURIComponent(part))
    .join("/");
}

function locationOf(e: RegistryEndpoint, response: Answer): string {
  const location = response.header("location");
  if (!location) {
    throw new RegistryApiError("HTTP_NO_LOCATION", response.status, "The registry sent no upload Location");
  }
  return absolute(e, location);
}

/** GET / — answers 200 without credentials (503 while the storage health check fails). */
export async function ping(e: RegistryEndpoint): Promise<number> {
  const response = await request({ ...e, username: undefined }, "/", { expect: [200, 503] });
  return response.status;
}

/** GET /v2/ — 200 with valid credentials, 401 without (when auth is on). */
export async function checkAuth(e: RegistryEndpoint): Promise<number> {
  const response = await request(e, "/v2/", { expect: [200, 401] });
  return response.status;
}

/** POST /v2/<repo>/blobs/uploads/ — returns the absolute Location of the new upload. */
export async function startUpload(e: RegistryEndpoint, repo: string): Promise<string> {
  const response = await request(e, `/v2/${repoPath(repo)}/blobs/uploads/`, {
    method: "POST",
    expect: [202],
  });
  return locationOf(e, response);
}

/** PATCH one chunk at `offset`; returns the Location for the next request (it carries the signed state). */
export async function uploadChunk(
  e: RegistryEndpoint,
  location: string,
  bytes: Uint8Array,
  offset: number,
): Promise<string> {
  const response = await request(e, location, {
    method: "PATCH",
    headers: {
      "Content-Type": "application/octet-stream",
      "Content-Range": `${offset}-${offset + bytes.length - 1}`,
    },
    body: bytes,
    expect: [202],
  });
  return locationOf(e, response);
}

/** PUT <location>&digest=... (with the last bytes, if any) — completes the upload. */
export async function finishUpload(
  e: RegistryEndpoint,
  location: string,
  digest: string,
  bytes?: Uint8Array,
): Promise<void> {
  const url = new URL(absolute(e, location));
  url.searchParams.set("digest", digest);
  await request(e, url.toString(), {
    method: "PUT",
    headers: { "Content-Type": "application/octet-stream" },
    body: bytes ?? new Uint8Array(),
    expect: [201],
  });
}

/** Uploads a blob in one PUT after the POST; returns its sha256 digest. */
export async function pushBlob(e: RegistryEndpoint, repo: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256Digest(bytes);
  await finishUpload(e, await startUpload(e, repo), digest, bytes);
  return digest;
}

/** PUT /v2/<repo>/manifests/<tag>; returns the digest the registry computed. */
export async function putManifest(
  e: RegistryEndpoint,
  repo: string,
  tag: string,
  manifestJson: string,
  mediaType: string,
): Promise<string> {
  const response = await request(e, `/v2/${repoPath(repo)}/manifests/${encodeURIComponent(tag)}`, {
    method: "PUT",
    headers: { "Content-Type": mediaType },
    body: manifestJson,
    expect: [201],
  });
  return response.header("docker-content-digest") ?? sha256Digest(Buffer.from(manifestJson));
}

export async function getManifest(
  e: RegistryEndpoint,
  repo: string,
  ref: string,
): Promise<{ digest: string; body: string; mediaType: string }> {
  const response = await request(e, `/v2/${repoPath(repo)}/manifests/${encodeURIComponent(ref)}`, {
    headers: { Accept: MANIFEST_ACCEPT },
    expect: [200],
  });
  const body = response.body.toString("utf8");
  return {
    digest: response.header("docker-content-digest") ?? sha256Digest(Buffer.from(body)),
    body,
    mediaType: response.header("content-type") ?? "",
  };
}

/** DELETE a manifest by digest (every tag on it goes too); needs storage.delete.enabled, as deploy sets. */
export async function deleteManifest(e: RegistryEndpoint, repo: string, digest: string): Promise<void> {
  await request(e, `/v2/${repoPath(repo)}/manifests/${digest}`, {
    method: "DELETE",
    expect: [202, 404],
  });
}

/** GET a blob; the bytes are checked against the digest, so a corrupt store cannot pass unnoticed. */
export async function getBlob(e: RegistryEndpoint, repo: string, digest: string): Promise<Buffer> {
  const response = await request(e, `/v2/${repoPath(repo)}/blobs/${digest}`, { expect: [200] });
  const bytes = response.body;
  const actual = sha256Digest(bytes);
  if (digest.startsWith("sha256:") && actual !== digest) {
    throw new RegistryApiError(
      "DIGEST_INVALID",
      200,
      `Blob ${digest} in ${repo} came back with digest ${actual}`,
    );
  }
  return bytes;
}

/** Every item of a paged list (tags, catalog), following the Link header when the registry pages it. */
async function listPaged(
  e: RegistryEndpoint,
  first: string,
  field: "tags" | "repositories",
): Promise<string[]> {
  const items: string[] = [];
  let next: string | undefined = first;
  while (next) {
    const response: Answer = await request(e, next, { expect: [200] });
    const page = JSON.parse(response.body.toString("utf8")) as Record<string, string[] | null | undefined>;
    items.push(...(page[field] ?? []));
    next = /<([^>]+)>;\s*rel="next"/.exec(response.header("link") ?? "")?.[1];
  }
  return items;
}

/** Every tag of a repository. */
export function listTags(e: RegistryEndpoint, repo: string): Promise<string[]> {
  return listPaged(e, `/v2/${repoPath(repo)}/tags/list`, "tags");
}

/** Every repository the registry holds (GET /v2/_catalog). */
export function listRepositories(e: RegistryEndpoint): Promise<string[]> {
  return listPaged(e, "/v2/_catalog?n=1000", "repositories");
}

export interface RandomImageOptions {
  /** Number of layers (default 1). */
  layers?: number;
  /** Bytes per layer (default 4096). */
  layerSize?: number;
}

/** Pushes a schema2 image of random layers and its config blob; returns the digests the registry holds. */
export async function pushRandomImage(
  e: RegistryEndpoint,
  repo: string,
  tag: string,
  opts: RandomImageOptions = {},
): Promise<{ manifestDigest: string; blobDigests: string[] }> {
  const layers: Array<{ digest: string; size: number }> = [];
  for (let i = 0; i < (opts.layers ?? 1); i++) {
    const bytes = randomBytes(opts.layerSize ?? 4096);
    layers.push({ digest: await pushBlob(e, repo, bytes), size: bytes.length });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: layers.map((layer) => layer.digest) },
    }),
  );
  const configDigest = await pushBlob(e, repo, config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifestV2,
    config: { mediaType: MEDIA_TYPES.imageConfig, size: config.length, digest: configDigest },
    layers: layers.map((layer) => ({ mediaType: MEDIA_TYPES.layer, size: layer.size, digest: layer.digest })),
  });
  const manifestDigest = await putManifest(e, repo, tag, manifest, MEDIA_TYPES.manifestV2);
  return { manifestDigest, blobDigests: [configDigest, ...layers.map((layer) => layer.digest)] };
}
