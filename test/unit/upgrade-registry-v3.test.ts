/**
 * The registry 2 -> 3 migration as pure functions: the config text (what 3.x removed or renamed), the
 * check against Distribution 3's documented options, the Deployment's layout, the equivalence between
 * what `upgrade` applies and what a 3.x render gives, and the runbook's JSON patch doing the same by hand.
 */
import bcrypt from "bcryptjs";
import { beforeAll, describe, expect, it } from "vitest";
import { jsonPatch } from "../../sandbox/src/patch.js";
import { resolveConfig } from "../../src/config/resolve.js";
import {
  configPathOf,
  hasV3Layout,
  migrateDeployment,
  migrateRegistryConfig,
  registryIdentity,
  v3ConfigProblems,
} from "../../src/core/registry/v3.js";
import { htpasswdLineOf, registryObjectsAt, withRegistryLayout } from "../../src/core/render/at-version.js";
import { type KubeObject, names, renderManifests } from "../../src/core/render/index.js";
import { v3JsonPatch } from "../../src/core/upgrade/runbook.js";
import { tls } from "../support/render-fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: rendered objects are plain JSON
type Any = any;

const V2_WITH_REMOVED_KEYS = `version: 0.1
loglevel: debug
# who reads this: the registry
storage:
  filesystem:
    rootdirectory: /var/lib/clouddrove # the claim
  swift:
    container: old
  delete:
    enabled: true
reporting:
  bugsnag:
    apikey: abc
compatibility:
  schema1:
    enabled: true
redis:
  addr: redis:6379
  pool:
    maxidle: 16
    maxactive: 64
    idletimeout: 300s
auth:
  htpasswd:
    realm: clouddrove
    path: /etc/clouddrove/auth/htpasswd
http:
  addr: :5000
`;

let objects: KubeObject[];
const find = (list: KubeObject[], kind: string) => list.find((o) => o.kind === kind) as Any;

beforeAll(async () => {
  const { config } = resolveConfig({ set: ["storage.efs.fileSystemId=fs-0123456789abcdef0"] });
  objects = await renderManifests(
    config,
    {
      username: "clouddrove",
      password: "correct horse battery staple",
      httpSecret: "0123456789abcdef",
      htpasswd: `clouddrove:${bcrypt.hashSync("correct horse battery staple", 4)}`,
    },
    tls,
  );
});

describe("config.yml 2.x -> 3.x", () => {
  it("drops what 3.x removed, renames what it renamed, keeps comments, storage root and auth", async () => {
    const result = await migrateRegistryConfig(V2_WITH_REMOVED_KEYS);
    expect(result.removed.map((r) => r.split(":")[0])).toEqual([
      "reporting",
      "compatibility",
      "storage.swift",
    ]);
    expect(result.changed).toEqual([
      "loglevel -> log.level",
      "redis.addr -> redis.addrs",
      "redis.pool.maxidle -> redis.maxidleconns",
      "redis.pool.maxactive -> redis.poolsize",
      "redis.pool.idletimeout -> redis.connmaxidletime",
    ]);
    expect(result.text).toContain("# who reads this: the registry");
    expect(result.text).toContain("rootdirectory: /var/lib/clouddrove # the claim");
    const { parse } = await import("yaml");
    const migrated = parse(result.text);
    expect(migrated.log).toEqual({ level: "debug" });
    expect(result.text).not.toContain("!!");
    expect(migrated.redis).toEqual({
      addrs: ["redis:6379"],
      maxidleconns: 16,
      poolsize: 64,
      connmaxidletime: "300s",
    });
    expect(await registryIdentity(result.text)).toEqual(await registryIdentity(V2_WITH_REMOVED_KEYS));
    expect(await v3ConfigProblems(result.text)).toEqual([]);
  });

  it("finds what 3.x would refuse or misread in an unmigrated config", async () => {
    expect(await v3ConfigProblems(V2_WITH_REMOVED_KEYS)).toEqual([
      "reporting: not a section of the 3.x configuration",
      "compatibility: not a section of the 3.x configuration",
      "storage driver(s) swift do not exist in 3.x",
      "exactly one storage driver is required, found 2",
      "redis.addr is 2.x; 3.x reads redis.addrs",
      "redis.pool is 2.x; 3.x reads maxidleconns/poolsize",
    ]);
    expect(await v3ConfigProblems("version: 0.1\nstorage:\n  filesystem: {}\n")).toEqual([
      "storage.filesystem.rootdirectory is not set (3.x would store in the image's /var/lib/registry)",
    ]);
  });

  it("leaves clouddrove's own config text as it is (it has nothing 3.x removed)", async () => {
    const text = find(objects, "ConfigMap").data["config.yml"];
    const result = await migrateRegistryConfig(text);
    expect(result).toEqual({ text, removed: [], changed: [] });
    expect(await v3ConfigProblems(text)).toEqual([]);
  });
});

describe("the Deployment at 3.x", () => {
  it("mounts the config at /etc/distribution, names it with serve, turns tracing off, keeps the rest", () => {
    const before = find(objects, "Deployment");
    expect(configPathOf(before.spec.template.spec.containers[0], 2)).toBe("/etc/docker/registry/config.yml");
    expect(hasV3Layout(before)).toBe(false);
    const after: Any = migrateDeployment(before, { image: "registry:3.0.0", configMap: names.configMap });
    const c = after.spec.template.spec.containers[0];
    expect(c.image).toBe("registry:3.0.0");
    expect(c.args).toEqual(["serve", "/etc/distribution/config.yml"]);
    expect(c.volumeMounts).toEqual([
      { name: "data", mountPath: "/var/lib/clouddrove" },
      { name: "config", mountPath: "/etc/distribution", readOnly: true },
      { name: "auth", mountPath: "/etc/clouddrove/auth", readOnly: true },
      { name: "tls", mountPath: "/etc/clouddrove/tls", readOnly: true },
    ]);
    expect(c.env).toEqual([
      ...before.spec.template.spec.containers[0].env,
      { name: "OTEL_TRACES_EXPORTER", value: "none" },
    ]);
    expect(hasV3Layout(after)).toBe(true);
    // Idempotent, and the input is not touched.
    expect(migrateDeployment(after, { image: "registry:3.0.0", configMap: names.configMap })).toEqual(after);
    expect(before.spec.template.spec.containers[0].image).toBe("registry:2.8.2");
  });

  it("is what a 3.x render gives: a deploy after the upgrade would roll nothing", async () => {
    const { config } = resolveConfig({
      set: ["storage.efs.fileSystemId=fs-0123456789abcdef0", "registry.version=3.0.0"],
    });
    const credentials = {
      username: "clouddrove",
      password: "correct horse battery staple",
      httpSecret: "0123456789abcdef",
      htpasswd: htpasswdLineOf(find(objects, "Secret")) ?? "",
    };
    const rendered3 = await withRegistryLayout(await renderManifests(config, credentials, tls), "3.0.0");
    const upgraded = await registryObjectsAt(
      find(objects, "ConfigMap"),
      find(objects, "Deployment"),
      "3.0.0",
      htpasswdLineOf(objects.find((o) => o.metadata.name === names.htpasswdSecret) as Any),
    );
    expect(upgraded.configMap).toEqual(find(rendered3, "ConfigMap"));
    expect(upgraded.deployment).toEqual(find(rendered3, "Deployment"));
  });

  it("the runbook's JSON patch does by hand what the upgrade applies", () => {
    const before = find(objects, "Deployment");
    const byHand = jsonPatch(structuredClone(before), v3JsonPatch(before, "3.0.0"));
    const applied: Any = migrateDeployment(before, { image: "registry:3.0.0", configMap: names.configMap });
    expect(byHand.spec.template.spec.containers).toEqual(applied.spec.template.spec.containers);
  });

  it("a 2.x target only changes the image", async () => {
    const result = await registryObjectsAt(
      find(objects, "ConfigMap"),
      find(objects, "Deployment"),
      "2.8.3",
      undefined,
    );
    const c = (result.deployment as Any).spec.template.spec.containers[0];
    expect(c.image).toBe("registry:2.8.3");
    expect(c.args).toEqual(["serve", "/etc/docker/registry/config.yml"]);
    expect(result.configMap).toEqual(find(objects, "ConfigMap"));
  });
});
