/**
 * The registry 2 -> 3 migration run for real: data pushed with Debian's Distribution 2.8.2 is served by
 * Distribution v3.0.0 (built by scripts/components.sh) from the same storage root, reading the migrated
 * config.yml the migrated Deployment names (`serve /etc/distribution/config.yml`): identical digests,
 * the same htpasswd credentials, and http.secret shared across replicas. v3ConfigProblems (the
 * documented options, core/registry/v3.ts) agrees with what the binary accepts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkAuth,
  finishUpload,
  getBlob,
  getManifest,
  pushRandomImage,
  type RegistryEndpoint,
  sha256Digest,
  startUpload,
} from "../../src/adapters/registry.js";
import { resolveConfig } from "../../src/config/resolve.js";
import { registryIdentity, v3ConfigProblems } from "../../src/core/registry/v3.js";
import { htpasswdLineOf, registryObjectsAt } from "../../src/core/render/at-version.js";
import { type KubeObject, names, renderManifests } from "../../src/core/render/index.js";
import {
  distributionBinary,
  type RegistryProcess,
  type ReplicaSpec,
  replicaSpec,
  startRegistry,
} from "../support/registry-process.js";

const USER = "clouddrove";
const PASSWORD = "correct horse battery staple";
const SECRET = "5b1e0c7a9d3f48e2a6c4b8d0f2e4a6c8";

// biome-ignore lint/suspicious/noExplicitAny: rendered objects are plain JSON
type Any = any;

/** The rendered objects with the ConfigMap's config.yml replaced (a user's hand-edited config). */
function withConfig(objects: KubeObject[], text: string): KubeObject[] {
  return objects.map((o) =>
    o.kind === "ConfigMap" && o.metadata.name === names.configMap
      ? ({ ...o, data: { ...(o as Any).data, [names.configMapKeys.registryConfig]: text } } as KubeObject)
      : o,
  );
}

async function migrated(objects: KubeObject[]): Promise<KubeObject[]> {
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name) as Any;
  const v3 = await registryObjectsAt(
    find("ConfigMap", names.configMap),
    find("Deployment", names.deployment),
    "3.0.0",
    htpasswdLineOf(find("Secret", names.htpasswdSecret)),
  );
  return objects.map((o) =>
    o.kind === "ConfigMap" && o.metadata.name === names.configMap
      ? (v3.configMap as KubeObject)
      : o.kind === "Deployment"
        ? (v3.deployment as KubeObject)
        : o,
  );
}

describe("the 2 -> 3 migration with the real 2.8.2 and 3.0.0 binaries", () => {
  let storage: string;
  let v2: ReplicaSpec;
  let v3: ReplicaSpec;
  let edited: ReplicaSpec;
  const running: RegistryProcess[] = [];
  const login = (r: RegistryProcess): RegistryEndpoint => ({
    baseUrl: r.baseUrl,
    username: USER,
    password: PASSWORD,
  });
  const start = async (replica: ReplicaSpec, binary?: string) => {
    const process = await startRegistry({ replica, rootDirectory: storage, binary });
    running.push(process);
    return process;
  };

  beforeAll(async () => {
    const { config } = resolveConfig({
      // Plain HTTP: TLS is proven by registry-tls.test.ts.
      set: ["storage.efs.fileSystemId=fs-0123456789abcdef0", "tls.mode=insecure-http"],
    });
    const htpasswd = `${USER}:${bcrypt.hashSync(PASSWORD, 10).replace(/^\$2b\$/, "$2y$")}`;
    const objects = await renderManifests(config, {
      username: USER,
      password: PASSWORD,
      httpSecret: SECRET,
      htpasswd,
    });
    v2 = replicaSpec(objects);
    v3 = replicaSpec(await migrated(objects));
    // A config someone extended by hand with keys 3.x no longer has.
    const extended = `${v2.configYml}compatibility:\n  schema1:\n    enabled: false\nloglevel: info\n`;
    edited = replicaSpec(await migrated(withConfig(objects, extended)));
    storage = await mkdtemp(join(tmpdir(), "clouddrove-upgrade-volume-"));
  });

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    if (storage) await rm(storage, { recursive: true, force: true });
  });

  it("names the v3 path, keeps storage root, htpasswd and http.secret, and turns tracing off", async () => {
    expect(v3.args).toEqual(["serve", "/etc/distribution/config.yml"]);
    expect(v3.env).toEqual({
      REGISTRY_HTTP_SECRET: SECRET,
      OTEL_TRACES_EXPORTER: "none",
      REGISTRY_LOG_FIELDS_NAMESPACE: "clouddrove",
    });
    expect(v3.htpasswd).toBe(v2.htpasswd);
    expect(await registryIdentity(v3.configYml)).toEqual(await registryIdentity(v2.configYml));
    expect(await registryIdentity(v3.configYml)).toMatchObject({
      rootDirectory: "/var/lib/clouddrove",
      htpasswdPath: "/etc/clouddrove/auth/htpasswd",
    });
    expect(await v3ConfigProblems(v3.configYml)).toEqual([]);
    expect(await v3ConfigProblems(edited.configYml)).toEqual([]);
    expect(edited.configYml).not.toContain("compatibility");
    expect(edited.configYml).not.toMatch(/^loglevel/m);
  });

  it("serves on 3.0.0 what 2.8.2 stored, with the same credentials and a shared http.secret", async () => {
    const before = await start(v2);
    const image = await pushRandomImage(login(before), "team/app", "v1", { layers: 2, layerSize: 4096 });
    expect(before.logs()).toContain("version=2.8.2");
    await before.stop();

    const v3Binary = distributionBinary();
    const [a, b] = [await start(v3, v3Binary), await start(edited, v3Binary)];
    for (const replica of [a, b]) {
      // Each log line names the binary's version.
      expect(replica.logs()).toContain("version=3.0.0");
      expect(replica.logs()).not.toContain("No HTTP secret provided");
      expect(await checkAuth({ baseUrl: replica.baseUrl })).toBe(401);
      expect(await checkAuth(login(replica))).toBe(200);
      expect((await getManifest(login(replica), "team/app", "v1")).digest).toBe(image.manifestDigest);
      for (const digest of image.blobDigests) await getBlob(login(replica), "team/app", digest);
    }
    // An upload started on one replica finishes on the other: their upload state is signed with one secret.
    const bytes = new TextEncoder().encode("one layer, two replicas");
    const location = await startUpload(login(a), "team/app");
    const onB = new URL(location);
    onB.host = new URL(b.baseUrl).host;
    await finishUpload(login(b), onB.toString(), sha256Digest(bytes), bytes);
    expect((await getBlob(login(a), "team/app", sha256Digest(bytes))).toString()).toBe(
      "one layer, two replicas",
    );
  });
});
