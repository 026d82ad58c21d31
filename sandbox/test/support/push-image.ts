/**
 * Pushes a small image (one random layer, its config blob, a schema 2 manifest) through the registry
 * HTTP API, with Basic credentials: enough for a pull to have something real to resolve and fetch.
 */
import { createHash, randomBytes } from "node:crypto";

const digestOf = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

export async function pushTestImage(
  baseUrl: string,
  credentials: { username: string; password: string },
  repository: string,
  tag: string,
): Promise<{ manifestDigest: string; configDigest: string }> {
  const authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
  const pushBlob = async (bytes: Buffer) => {
    const started = await fetch(`${baseUrl}/v2/${repository}/blobs/uploads/`, {
      method: "POST",
      headers: { Authorization: authorization },
    });
    if (started.status !== 202) throw new Error(`upload not started: ${started.status}`);
    const location = new URL(started.headers.get("location") ?? "", baseUrl);
    location.searchParams.set("digest", digestOf(bytes));
    const done = await fetch(location, {
      method: "PUT",
      headers: { Authorization: authorization, "Content-Type": "application/octet-stream" },
      body: bytes,
    });
    if (done.status !== 201) throw new Error(`upload not finished: ${done.status}`);
    return { digest: digestOf(bytes), size: bytes.length };
  };
  const layer = await pushBlob(randomBytes(2048));
  const config = await pushBlob(
    Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: {},
        rootfs: { type: "layers", diff_ids: [layer.digest] },
      }),
    ),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: { mediaType: "application/vnd.docker.container.image.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", ...layer }],
    }),
  );
  const put = await fetch(`${baseUrl}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: {
      Authorization: authorization,
      "Content-Type": "application/vnd.docker.distribution.manifest.v2+json",
    },
    body: manifest,
  });
  if (put.status !== 201) throw new Error(`manifest not stored: ${put.status}`);
  return { manifestDigest: digestOf(manifest), configDigest: config.digest };
}
