/**
 * The rendered registry configuration, run by the real registry binary (Distribution 2.8.2): two
 * replicas on one storage directory with the rendered shared http.secret, as the Deployment runs them
 * behind one Service.
 */
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkAuth,
  finishUpload,
  getBlob,
  getManifest,
  listTags,
  ping,
  pushRandomImage,
  type RegistryApiError,
  type RegistryEndpoint,
  sha256Digest,
  startUpload,
  uploadChunk,
} from "../../src/adapters/registry.js";
import { resolveConfig } from "../../src/config/resolve.js";
import { type KubeObject, names, renderManifests } from "../../src/core/render/index.js";
import {
  freePort,
  garbageCollect,
  type RegistryProcess,
  type ReplicaSpec,
  replicaSpec,
  startRegistry,
} from "../support/registry-process.js";

const USER = "clouddrove";
const PASSWORD = "correct horse battery staple";

/** Sends a request meant for one replica to another: the load balancer's choice, made by the test. */
function onReplica(location: string, replica: RegistryProcess): string {
  const url = new URL(location);
  const target = new URL(replica.baseUrl);
  url.host = target.host;
  return url.toString();
}

async function errorOf(promise: Promise<unknown>): Promise<RegistryApiError> {
  return promise.then(
    () => {
      throw new Error("expected the registry to refuse");
    },
    (error: RegistryApiError) => error,
  );
}

describe("two registry replicas from the rendered manifests on one volume", () => {
  let objects: KubeObject[];
  let replica: ReplicaSpec;
  let storage: string;
  const started: RegistryProcess[] = [];
  let a: RegistryProcess;
  let b: RegistryProcess;
  const as = (r: RegistryProcess, withCredentials = true): RegistryEndpoint => ({
    baseUrl: r.baseUrl,
    ...(withCredentials ? { username: USER, password: PASSWORD } : {}),
  });
  const start = async (env?: Record<string, string>) => {
    const process = await startRegistry({ replica, rootDirectory: storage, env });
    started.push(process);
    return process;
  };

  beforeAll(async () => {
    const { config } = resolveConfig({
      // Plain HTTP: TLS is proven by registry-tls.test.ts.
      set: ["storage.efs.fileSystemId=fs-0123456789abcdef0", "tls.mode=insecure-http"],
    });
    // Apache htpasswd writes $2y$; bcryptjs writes $2b$. Same algorithm; the registry must take $2y$.
    const htpasswd = `${USER}:${bcrypt.hashSync(PASSWORD, 10).replace(/^\$2b\$/, "$2y$")}`;
    objects = await renderManifests(config, {
      username: USER,
      password: PASSWORD,
      httpSecret: "a3f1c9e07b5d4e2a8c6f0b1d9e7a5c3f",
      htpasswd,
    });
    replica = replicaSpec(objects);
    storage = await mkdtemp(join(tmpdir(), "clouddrove-volume-"));
    [a, b] = await Promise.all([start(), start()]);
  });

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
    if (storage) await rm(storage, { recursive: true, force: true });
  });

  it("runs each replica with the Deployment's arguments and the shared secret from the Secret", () => {
    expect(replica.args).toEqual(["serve", "/etc/docker/registry/config.yml"]);
    expect(replica.env).toEqual({
      REGISTRY_HTTP_SECRET: "a3f1c9e07b5d4e2a8c6f0b1d9e7a5c3f",
      REGISTRY_LOG_FIELDS_NAMESPACE: "clouddrove",
    });
    expect(replica.htpasswd).toMatch(/^clouddrove:\$2y\$10\$/);
    // Neither replica fell back to a random secret of its own.
    for (const r of [a, b]) expect(r.logs()).not.toContain("No HTTP secret provided");
    // The registry took the namespace log field from the environment.
    for (const r of [a, b]) expect(r.logs()).toContain("namespace=clouddrove");
  });

  it("answers the readiness and liveness probes' request without credentials on both replicas", async () => {
    // biome-ignore lint/suspicious/noExplicitAny: reads into the rendered Deployment
    const deployment = objects.find((o) => o.kind === "Deployment") as any;
    const container = deployment.spec.template.spec.containers[0];
    for (const probe of [container.readinessProbe.httpGet, container.livenessProbe.httpGet]) {
      expect(probe.path).toBe("/");
      for (const r of [a, b]) expect((await fetch(`${r.baseUrl}${probe.path}`)).status).toBe(200);
    }
    for (const r of [a, b]) {
      expect(await ping(as(r, false))).toBe(200);
    }
  });

  it("demands the htpasswd credentials on /v2/", async () => {
    for (const r of [a, b]) {
      expect(await checkAuth(as(r, false))).toBe(401);
      expect(await checkAuth(as(r))).toBe(200);
      expect(await checkAuth({ baseUrl: r.baseUrl, username: USER, password: "wrong" })).toBe(401);
    }
  });

  it("completes on B an upload started and partly sent on A", async () => {
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
    const digest = sha256Digest(bytes);
    const location = await startUpload(as(a), "team/cross");
    const next = await uploadChunk(as(a), location, bytes.subarray(0, 1000), 0);
    const onB = await uploadChunk(as(b), onReplica(next, b), bytes.subarray(1000, 2000), 1000);
    await finishUpload(as(b), onReplica(onB, b), digest, bytes.subarray(2000));
    expect(await getBlob(as(a), "team/cross", digest)).toEqual(bytes);
    expect(await getBlob(as(b), "team/cross", digest)).toEqual(bytes);
  });

  it("serves from B a manifest pushed to A", async () => {
    const pushed = await pushRandomImage(as(a), "team/app", "v1", { layers: 2, layerSize: 2048 });
    const manifest = await getManifest(as(b), "team/app", "v1");
    expect(manifest.digest).toBe(pushed.manifestDigest);
    expect(manifest.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(await listTags(as(b), "team/app")).toEqual(["v1"]);
    for (const digest of pushed.blobDigests) {
      expect(sha256Digest(await getBlob(as(b), "team/app", digest))).toBe(digest);
    }
  });

  it("rejects the upload on a replica with a different http.secret (why the secret is shared)", async () => {
    const stranger = await start({ REGISTRY_HTTP_SECRET: "a-different-secret-on-this-replica" });
    const bytes = Buffer.from("layer bytes that must not be accepted across secrets");
    const location = await startUpload(as(a), "team/split");
    const next = await uploadChunk(as(a), location, bytes.subarray(0, 10), 0);

    const finish = await errorOf(
      finishUpload(as(stranger), onReplica(next, stranger), sha256Digest(bytes), bytes.subarray(10)),
    );
    expect(finish.code).toBe("BLOB_UPLOAD_INVALID");
    expect(finish.hint).toContain("REGISTRY_HTTP_SECRET");
    const chunk = await errorOf(uploadChunk(as(stranger), onReplica(next, stranger), bytes.subarray(10), 10));
    expect(chunk.code).toBe("BLOB_UPLOAD_INVALID");
    // The same state is still good on a replica that shares the secret.
    await finishUpload(as(b), onReplica(next, b), sha256Digest(bytes), bytes.subarray(10));
    expect(await getBlob(as(b), "team/split", sha256Digest(bytes))).toEqual(bytes);
  });

  it("accepts the ConfigMap's garbage-collect flags and keeps tagged images", async () => {
    const image = await pushRandomImage(as(a), "team/gc", "kept", { layers: 1 });
    await Promise.all(started.map((p) => p.stop()));
    started.length = 0;

    const configMap = objects.find((o) => o.kind === "ConfigMap") as KubeObject & {
      data: Record<string, string>;
    };
    const flags = (configMap.data[names.configMapKeys.garbageCollectFlags] as string).split(/\s+/);
    const gc = await garbageCollect(replica, storage, flags);
    expect(gc.output).toMatch(/blobs marked/);
    expect(gc.code).toBe(0);

    const again = await start();
    expect((await getManifest(as(again), "team/gc", "kept")).digest).toBe(image.manifestDigest);
    for (const digest of image.blobDigests) {
      expect(sha256Digest(await getBlob(as(again), "team/gc", digest))).toBe(digest);
    }
  });
});

describe("the registry adapter against answers the binary does not give here", () => {
  // A registry behind a proxy may send relative Locations and non-JSON error pages.
  let server: Server;
  let baseUrl: string;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url}`);
      request.resume();
      if (request.method === "POST") {
        response.writeHead(202, { Location: "/v2/team/app/blobs/uploads/u1?_state=s0" }).end();
      } else if (request.method === "PATCH") {
        response.writeHead(202, { Location: "/v2/team/app/blobs/uploads/u1?_state=s1" }).end();
      } else if (request.method === "PUT") {
        response.writeHead(201).end();
      } else {
        response.writeHead(502, { "Content-Type": "text/html" }).end("<html>Bad Gateway</html>");
      }
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.close();
    await once(server, "close");
  });

  it("resolves relative upload Locations and keeps their state when adding the digest", async () => {
    const location = await startUpload({ baseUrl }, "team/app");
    expect(location).toBe(`${baseUrl}/v2/team/app/blobs/uploads/u1?_state=s0`);
    const next = await uploadChunk({ baseUrl }, location, Buffer.from("abc"), 0);
    expect(next).toBe(`${baseUrl}/v2/team/app/blobs/uploads/u1?_state=s1`);
    await finishUpload({ baseUrl }, next, `sha256:${"0".repeat(64)}`);
    expect(seen.at(-1)).toBe(`PUT /v2/team/app/blobs/uploads/u1?_state=s1&digest=sha256%3A${"0".repeat(64)}`);
  });

  it("names the status when the error page is not the registry's JSON", async () => {
    const error = await errorOf(listTags({ baseUrl }, "team/app"));
    expect(error.code).toBe("HTTP_502");
    expect(error.status).toBe(502);
    expect(error.message).toContain("GET");
  });

  it("reports a registry that does not answer as UNREACHABLE with a hint", async () => {
    const port = await freePort();
    const error = await errorOf(ping({ baseUrl: `http://127.0.0.1:${port}` }));
    expect(error.code).toBe("UNREACHABLE");
    expect(error.hint).toContain("running");
    expect(error.exitCode).toBe(1);
  });
});

describe("the init container's script, run by busybox sh as in the Alpine image", () => {
  let work: string;
  let script: string;
  const run = (dir: string) =>
    spawnSync("busybox", ["sh", "-c", script.replaceAll(names.dataPath, dir)], { encoding: "utf8" });

  beforeAll(async () => {
    const { config } = resolveConfig({
      // Plain HTTP: TLS is proven by registry-tls.test.ts.
      set: ["storage.efs.fileSystemId=fs-0123456789abcdef0", "tls.mode=insecure-http"],
    });
    const objects = await renderManifests(config, {
      username: USER,
      password: PASSWORD,
      httpSecret: "s",
      htpasswd: `${USER}:${bcrypt.hashSync(PASSWORD, 4)}`,
    });
    // biome-ignore lint/suspicious/noExplicitAny: reads into the rendered Deployment
    const deployment = objects.find((o) => o.kind === "Deployment") as any;
    script = deployment.spec.template.spec.initContainers[0].args.join("\n");
    work = await mkdtemp(join(tmpdir(), "clouddrove-init-"));
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  const owner = `${names.registryUser.uid}:${names.registryUser.gid}`;
  const ownerOf = (path: string) => {
    const stats = statSync(path);
    return `${stats.uid}:${stats.gid}`;
  };

  it(
    process.getuid?.() === 0
      ? "gives a fresh volume root and a root-owned store to the registry user, then changes nothing"
      : "fails loudly where it may not chown (not run as root here)",
    async () => {
      const volume = join(work, "volume");
      await mkdir(join(volume, "docker/registry/v2/blobs"), { recursive: true });
      await writeFile(join(volume, "docker/registry/v2/blobs/data"), "x");
      const first = run(volume);
      if (process.getuid?.() !== 0) {
        expect(first.status).not.toBe(0);
        expect(first.stderr).toMatch(/Operation not permitted/);
        return;
      }
      expect(first.stderr).toBe("");
      expect(first.status).toBe(0);
      for (const path of ["", "docker", "docker/registry/v2/blobs", "docker/registry/v2/blobs/data"]) {
        expect(ownerOf(join(volume, path))).toBe(owner);
      }
      expect(first.stdout).toContain(`data directory ready: ${volume} ${owner}`);
      const second = run(volume);
      expect(second.status).toBe(0);
      expect(second.stdout).toBe(first.stdout);
    },
  );

  it("creates the data directory when the volume does not hold it yet", () => {
    const missing = join(work, "not-yet", "clouddrove");
    const result = run(missing);
    expect(existsSync(missing)).toBe(true);
    if (process.getuid?.() === 0) {
      expect(result.status).toBe(0);
      expect(ownerOf(missing)).toBe(owner);
    }
  });
});
