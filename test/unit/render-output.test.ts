/** Output forms and guards of the renderer: masking, the YAML stream, config.yml, determinism, refusals. */
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import {
  type KubeObject,
  maskSecrets,
  names,
  renderManifests,
  renderRegistryConfig,
  toYamlStream,
} from "../../src/core/render/index.js";
import { loadTemplateObjects } from "../../src/core/render/templates.js";
import { UsageError } from "../../src/errors.js";
import { configWith, credentials, tls } from "../support/render-fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read deep into plain JSON objects
type Any = any;

const defaults = configWith("storage.efs.fileSystemId=fs-0123456789abcdef0");

describe("maskSecrets", () => {
  it("hides every Secret value, keeps the keys, and leaves the input untouched", async () => {
    const objects = await renderManifests(defaults, credentials, tls);
    objects.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "extra" },
      stringData: { a: "plain", b: "text" },
    });
    const masked = maskSecrets(objects);
    const secrets = masked.filter((o) => o.kind === "Secret") as Any[];
    expect(secrets).toHaveLength(6);
    for (const secret of secrets) {
      for (const field of ["data", "stringData"]) {
        for (const value of Object.values(secret[field] ?? {})) expect(value).toBe("<masked>");
      }
    }
    expect(Object.keys(secrets[0].data)).toEqual(["htpasswd"]);
    expect(Object.keys(secrets[5].stringData)).toEqual(["a", "b"]);
    expect(Object.keys(secrets[3].data)).toEqual(["ca.crt", "ca.key"]);
    expect(Object.keys(secrets[4].data)).toEqual(["tls.crt", "tls.key", "ca.crt"]);

    const text = toYamlStream(masked);
    for (const secret of [
      credentials.password,
      credentials.httpSecret,
      credentials.htpasswd,
      tls.ca.key,
      tls.server.key,
    ]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(secret).toString("base64"));
    }
    expect(text).not.toContain(Buffer.from(`${credentials.htpasswd}\n`).toString("base64"));
    // The originals still hold the values: masking works on a copy.
    expect((objects[3] as Any).data.htpasswd).not.toBe("<masked>");
    expect(masked.filter((o) => o.kind !== "Secret")).toEqual(objects.filter((o) => o.kind !== "Secret"));
  });
});

describe("toYamlStream", () => {
  it("writes one document per object that parses back to the same objects, keys in template order", async () => {
    const objects = await renderManifests(defaults, credentials, tls);
    const text = toYamlStream(objects);
    const docs = parseAllDocuments(text, { version: "1.1" });
    expect(docs).toHaveLength(objects.length);
    expect(docs.map((d) => d.toJS())).toEqual(objects);
    expect(text.split("\n---\n")).toHaveLength(objects.length);
    // Template key order: apiVersion, kind, metadata first, then the rest as the template has it.
    const deploymentDoc = text.split("\n---\n")[objects.findIndex((o) => o.kind === "Deployment")] as string;
    expect(deploymentDoc.indexOf("apiVersion:")).toBe(0);
    expect(deploymentDoc.indexOf("replicas:")).toBeLessThan(deploymentDoc.indexOf("strategy:"));
    expect(deploymentDoc.indexOf("initContainers:")).toBeLessThan(deploymentDoc.indexOf("containers:\n"));
  });

  it("quotes strings that YAML 1.1 (kubectl) would read as booleans or octal numbers", async () => {
    const text = toYamlStream([
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "x" },
        data: { a: "on", b: "0444", c: "yes" },
      },
    ]);
    expect(parseYaml(text, { version: "1.1" }).data).toEqual({ a: "on", b: "0444", c: "yes" });
  });

  it("is the same for the same input, run after run", async () => {
    const first = toYamlStream(await renderManifests(defaults, credentials, tls));
    const second = toYamlStream(
      await renderManifests(
        configWith("storage.efs.fileSystemId=fs-0123456789abcdef0"),
        { ...credentials },
        tls,
      ),
    );
    expect(second).toBe(first);
  });
});

describe("renderRegistryConfig", () => {
  it("sets storage, delete, purging, addresses, health and htpasswd auth as the registry needs them", async () => {
    const text = await renderRegistryConfig();
    const config = parseYaml(text, { version: "1.1" });
    expect(config.version).toBe(0.1);
    expect(config.storage.filesystem.rootdirectory).toBe("/var/lib/clouddrove");
    expect(config.storage.delete.enabled).toBe(true);
    expect(config.storage.maintenance.uploadpurging).toMatchObject({
      enabled: true,
      age: "168h",
      interval: "24h",
    });
    expect(config.storage.maintenance.readonly.enabled).toBe(false);
    expect(config.storage.cache).toBeUndefined();
    expect(config.http.addr).toBe(":5000");
    expect(config.http.debug.addr).toBe(":5001");
    expect(config.http.secret).toBeUndefined();
    expect(config.health.storagedriver.enabled).toBe(true);
    expect(config.auth.htpasswd).toEqual({ realm: "clouddrove", path: "/etc/clouddrove/auth/htpasswd" });
    // The namespace log field comes from the pod (REGISTRY_LOG_FIELDS_NAMESPACE), not from this text.
    expect(config.log.fields).toEqual({ service: "registry" });
    // The comments that explain the choices survive into the ConfigMap.
    expect(text).toContain("# The image declares VOLUME /var/lib/registry");
  });

  it("is exactly the ConfigMap's config.yml", async () => {
    const objects = await renderManifests(defaults, credentials, tls);
    const configMap = objects.find((o) => o.kind === "ConfigMap") as Any;
    expect(configMap.data["config.yml"]).toBe(await renderRegistryConfig());
  });

  it("puts the secret paths and ports where the Deployment mounts and probes them", async () => {
    const config = parseYaml(await renderRegistryConfig(), { version: "1.1" });
    const objects = await renderManifests(defaults, credentials, tls);
    const pod = (objects.find((o) => o.kind === "Deployment") as Any).spec.template.spec;
    const registry = pod.containers[0];
    const mountOf = (volume: string) => registry.volumeMounts.find((m: Any) => m.name === volume).mountPath;
    const authVolume = pod.volumes.find((v: Any) => v.name === "auth").secret.items[0].path;
    expect(config.auth.htpasswd.path).toBe(`${mountOf("auth")}/${authVolume}`);
    expect(config.storage.filesystem.rootdirectory).toBe(mountOf("data"));
    expect(`${mountOf("config")}/config.yml`).toBe(registry.args[1]);
    expect(config.http.addr).toBe(`:${registry.ports[0].containerPort}`);
  });
});

describe("names", () => {
  it("match the templates", async () => {
    const templates = await loadTemplateObjects();
    const nameOf = (kind: string) => templates.filter((o) => o.kind === kind).map((o) => o.metadata.name);
    expect(nameOf("Namespace")).toEqual([names.namespaceDefault]);
    expect(nameOf("Deployment")).toEqual([names.deployment]);
    expect(nameOf("Service")).toEqual([names.service]);
    expect(nameOf("ServiceAccount")).toEqual([names.serviceAccount]);
    expect(nameOf("PodDisruptionBudget")).toEqual([names.podDisruptionBudget]);
    expect(nameOf("ConfigMap")).toEqual([names.configMap, names.caConfigMap]);
    expect(nameOf("Secret")).toEqual([
      names.htpasswdSecret,
      names.httpSecret,
      names.pullSecret,
      names.caSecret,
      names.tlsSecret,
    ]);
    expect(nameOf("PersistentVolumeClaim")).toEqual([names.claim]);
    expect(nameOf("PersistentVolume")).toEqual([names.volume(names.namespaceDefault)]);
    expect(nameOf("NetworkPolicy")).toEqual(Object.values(names.networkPolicies));
    for (const object of templates)
      expect(object.metadata.labels).toEqual(expect.objectContaining(names.commonLabels));
    const deployment = templates.find((o) => o.kind === "Deployment") as Any;
    expect(deployment.spec.template.spec.serviceAccountName).toBe(names.serviceAccount);
    expect(deployment.spec.template.spec.containers[0].name).toBe(names.container);
    expect(deployment.spec.template.spec.initContainers[0].name).toBe(names.initContainer);
    const selector = Object.entries(names.selectorLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    expect(names.registryPodSelector).toBe(selector);
  });
});

describe("refusals", () => {
  const expectUsageError = async (promise: Promise<unknown>, pattern: RegExp) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(pattern);
    expect((error as UsageError).hint).toBeTruthy();
  };

  it("refuses a non-bcrypt or foreign htpasswd line (the registry would silently ignore it)", async () => {
    await expectUsageError(
      renderManifests(
        defaults,
        { ...credentials, htpasswd: "clouddrove:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=" },
        tls,
      ),
      /bcrypt entry/,
    );
    await expectUsageError(
      renderManifests(
        defaults,
        {
          ...credentials,
          htpasswd: credentials.htpasswd.replace("clouddrove:", "admin:"),
        },
        tls,
      ),
      /bcrypt entry for user 'clouddrove'/,
    );
    await expectUsageError(
      renderManifests(defaults, { ...credentials, password: "" }, tls),
      /password is empty/,
    );
    await expectUsageError(
      renderManifests(defaults, { ...credentials, httpSecret: "" }, tls),
      /http secret is empty/,
    );
  });

  it("accepts Apache's $2y$ form of the same bcrypt hash", async () => {
    const apache = credentials.htpasswd.replace("$2b$", "$2y$");
    expect(apache).toContain(":$2y$04$");
    const objects = await renderManifests(defaults, { ...credentials, htpasswd: apache }, tls);
    expect(objects).toHaveLength(17);
  });

  it("refuses storage settings that cannot make a volume", async () => {
    const bare = configWith();
    await expectUsageError(renderManifests(bare, credentials, tls), /storage.efs.fileSystemId is not set/);
    const nfs = configWith("storage.type=nfs");
    await expectUsageError(renderManifests(nfs, credentials, tls), /storage.nfs.server is not set/);
    const ebs = { ...defaults, storage: { ...defaults.storage, type: "ebs" as const } };
    await expectUsageError(renderManifests(ebs, credentials, tls), /ReadWriteOnce/);
  });

  it("never changes its input objects between renders (templates are read afresh)", async () => {
    const a = (await renderManifests(defaults, credentials, tls)) as KubeObject[];
    const deployment = a.findIndex((o) => o.kind === "Deployment");
    (a[deployment] as Any).spec.replicas = 99;
    const b = await renderManifests(defaults, credentials, tls);
    expect((b[deployment] as Any).spec.replicas).toBe(3);
  });
});
