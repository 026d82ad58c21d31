/**
 * The pieces of the sandbox runtime on their own: which images run for real and how their arguments are
 * read, volumes and env made real, the launch plan that redirects paths without touching the user's
 * config, the load balancer proxy's choice of endpoint, and pods/portforward's refusals.
 */
import { once } from "node:events";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createClock } from "../../src/clock.js";
import { type Sandbox, startSandbox } from "../../src/index.js";
import { resolveEnv } from "../../src/runtime/env.js";
import { registryMajor } from "../../src/runtime/image.js";
import { persistentVolumeDirectory } from "../../src/runtime/layout.js";
import { type Backend, LoadBalancers } from "../../src/runtime/load-balancer.js";
import { planLaunch, serveArguments } from "../../src/runtime/registry-launch.js";
import { hostPathOf, type MountTable, materializeMounts } from "../../src/runtime/volumes.js";
import { MemoryStore } from "../../src/store.js";
import type { KubeObject } from "../../src/types.js";
import { until } from "../support/wait.js";

describe("which containers run for real", () => {
  it("recognizes registry 2 and 3 under the names people write", () => {
    expect(registryMajor("registry:2.8.2")).toBe(2);
    expect(registryMajor("registry:2")).toBe(2);
    expect(registryMajor("docker.io/library/registry:3.0.0")).toBe(3);
    expect(registryMajor("mirror.example.com:5000/library/registry:3.0.0-rc.1")).toBe(3);
    expect(registryMajor("registry:2.8.2@sha256:abc")).toBe(2);
    expect(registryMajor("registry:latest")).toBeUndefined();
    expect(registryMajor("registry")).toBeUndefined();
    expect(registryMajor("myorg/registry:2.8.2")).toBeUndefined();
    expect(registryMajor("nginx:2.8")).toBeUndefined();
  });

  it("reads command and args the way the image's entrypoint does", () => {
    expect(serveArguments({}, 2)).toEqual({ configPath: "/etc/docker/registry/config.yml" });
    expect(serveArguments({}, 3)).toEqual({ configPath: "/etc/distribution/config.yml" });
    expect(serveArguments({ args: ["/etc/x/config.yml"] }, 3)).toEqual({ configPath: "/etc/x/config.yml" });
    expect(serveArguments({ args: ["serve", "/etc/docker/registry/config.yml"] }, 3)).toEqual({
      configPath: "/etc/docker/registry/config.yml",
    });
    expect(serveArguments({ command: ["/bin/registry"], args: ["serve", "/c.yml"] }, 2)).toEqual({
      configPath: "/c.yml",
    });
    expect(serveArguments({ args: ["serve"] }, 2)).toEqual({});
    // Not a long-running registry: stays simulated.
    expect(serveArguments({ args: ["garbage-collect", "/c.yml"] }, 2)).toBeUndefined();
    expect(serveArguments({ command: ["/bin/sh", "-c", "registry serve /c.yml"] }, 2)).toBeUndefined();
  });
});

describe("volumes, env and the launch plan", () => {
  let dataDir: string;
  const clock = createClock({ manual: true, start: Date.parse("2025-06-01T10:00:00Z") });
  const store = new MemoryStore({ clock });
  const pod: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default", uid: "0b6c3f0e-1111-4222-a333-444455556666" },
    spec: {
      nodeName: "node-a",
      volumes: [
        { name: "config", configMap: { name: "cfg", items: [{ key: "config.yml", path: "config.yml" }] } },
        { name: "auth", secret: { secretName: "auth", defaultMode: 0o444 } },
        { name: "data", persistentVolumeClaim: { claimName: "data" } },
        { name: "missing", configMap: { name: "no-such-configmap" } },
      ],
    },
  };
  const container = {
    name: "registry",
    image: "registry:2.8.2",
    args: ["serve", "/etc/docker/registry/config.yml"],
    volumeMounts: [
      { name: "config", mountPath: "/etc/docker/registry" },
      { name: "auth", mountPath: "/etc/clouddrove/auth" },
      { name: "data", mountPath: "/var/lib/clouddrove", subPath: "registry" },
    ],
    env: [
      { name: "REGISTRY_HTTP_SECRET", valueFrom: { secretKeyRef: { name: "auth", key: "secret" } } },
      { name: "LEVEL", valueFrom: { configMapKeyRef: { name: "cfg", key: "level" } } },
      { name: "GREETING", value: "log at $(LEVEL), not $$(LEVEL)" },
      { name: "ABSENT", valueFrom: { secretKeyRef: { name: "no-such-secret", key: "x" } } },
    ],
  };
  const userConfig = `version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/clouddrove
http:
  addr: :5000
auth:
  htpasswd:
    realm: r
    path: /etc/clouddrove/auth/htpasswd
`;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "clouddrove-runtime-parts-"));
    store.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg", namespace: "default" },
      data: { "config.yml": userConfig, level: "debug" },
    });
    store.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "auth", namespace: "default" },
      data: {
        htpasswd: Buffer.from("u:$2y$10$x\n").toString("base64"),
        secret: Buffer.from("s3cret").toString("base64"),
      },
    });
    store.create({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "nfs-pv" },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteMany"],
        nfs: { server: "10.0.0.9", path: "/exports/reg" },
      },
    });
    store.create({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "default" },
      spec: {
        accessModes: ["ReadWriteMany"],
        volumeName: "nfs-pv",
        resources: { requests: { storage: "1Gi" } },
      },
    });
  });

  afterAll(async () => {
    clock.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("maps EFS handles and NFS exports to shared host directories", () => {
    const efs = (handle: string) =>
      persistentVolumeDirectory(dataDir, {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: "x" },
        spec: { csi: { driver: "efs.csi.aws.com", volumeHandle: handle } },
      });
    expect(efs("fs-1234")).toBe(join(dataDir, "efs", "fs-1234"));
    expect(efs("fs-1234:/sub/dir")).toBe(join(dataDir, "efs", "fs-1234", "sub", "dir"));
    expect(efs("fs-1234::fsap-99")).toBe(join(dataDir, "efs", "fs-1234", "fsap-99"));
    expect(() => efs("fs-1234:/../../etc")).toThrow(/inside its volume/);
    expect(persistentVolumeDirectory(dataDir, store.get("PersistentVolume", undefined, "nfs-pv")!)).toBe(
      join(dataDir, "nfs", "10.0.0.9", "exports", "reg"),
    );
  });

  let table: MountTable;

  it("writes ConfigMap and Secret volumes as files and maps container paths to host paths", async () => {
    table = await materializeMounts(store, dataDir, pod, container);
    const config = hostPathOf(table, "/etc/docker/registry/config.yml");
    expect(config.mounted).toBe(true);
    expect(await readFile(config.hostPath, "utf8")).toBe(userConfig);
    const htpasswd = hostPathOf(table, "/etc/clouddrove/auth/htpasswd");
    expect(await readFile(htpasswd.hostPath, "utf8")).toBe("u:$2y$10$x\n");
    expect((await stat(htpasswd.hostPath)).mode & 0o777).toBe(0o444);
    expect(hostPathOf(table, "/var/lib/clouddrove/docker").hostPath).toBe(
      join(dataDir, "nfs", "10.0.0.9", "exports", "reg", "registry", "docker"),
    );
    const outside = hostPathOf(table, "/var/lib/registry");
    expect(outside).toEqual({ hostPath: join(table.rootfs, "var", "lib", "registry"), mounted: false });
    // Only the volumes this container mounts are made; a missing ConfigMap of another is not its problem.
    expect(table.problems).toEqual([]);
    const other = await materializeMounts(store, dataDir, pod, {
      volumeMounts: [{ name: "missing", mountPath: "/m" }],
    });
    expect(other.problems).toEqual(['configmap "no-such-configmap" not found']);
  });

  it("builds the container's env from values, Secrets and ConfigMaps, and reports what is missing", () => {
    const { env, problems } = resolveEnv(store, pod, container);
    expect(env).toEqual({
      REGISTRY_HTTP_SECRET: "s3cret",
      LEVEL: "debug",
      GREETING: "log at debug, not $(LEVEL)",
    });
    expect(problems).toEqual(['secret "no-such-secret" not found']);
  });

  it("redirects the config's paths and ports by env, leaving the user's file as it is", async () => {
    let next = 41000;
    const plan = await planLaunch({
      major: 2,
      container,
      mounts: table,
      env: { REGISTRY_HTTP_SECRET: "s3cret" },
      freePort: async () => next++,
    });
    const configPath = hostPathOf(table, "/etc/docker/registry/config.yml").hostPath;
    expect(plan.args).toEqual(["serve", configPath]);
    expect(await readFile(configPath, "utf8")).toBe(userConfig);
    expect(plan.env).toMatchObject({
      REGISTRY_HTTP_SECRET: "s3cret",
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(
        dataDir,
        "nfs",
        "10.0.0.9",
        "exports",
        "reg",
        "registry",
      ),
      REGISTRY_AUTH_HTPASSWD_PATH: hostPathOf(table, "/etc/clouddrove/auth/htpasswd").hostPath,
      REGISTRY_HTTP_ADDR: "127.0.0.1:41000",
    });
    expect(plan.env.REGISTRY_HTTP_DEBUG_ADDR).toBeUndefined();
    expect([...plan.ports]).toEqual([[5000, 41000]]);
    // Nothing of the test runner's environment reaches the registry but PATH.
    expect(Object.keys(plan.env).filter((k) => !k.startsWith("REGISTRY_"))).toEqual(["PATH"]);
  });

  it("lets the container's own env choose the root, and keeps a root outside every volume in the pod", async () => {
    const plan = await planLaunch({
      major: 2,
      container,
      mounts: table,
      env: { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: "/var/lib/registry" },
      freePort: async () => 42000,
    });
    expect(plan.env.REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY).toBe(
      join(table.rootfs, "var", "lib", "registry"),
    );
  });

  it("hands a 3.x container's config to the binary as it is: what 3.0.0 refuses is the binary's call", async () => {
    const configPath = hostPathOf(table, "/etc/docker/registry/config.yml").hostPath;
    const removedSection = `${userConfig}compatibility:\n  schema1:\n    enabled: true\n`;
    await writeFile(configPath, removedSection);
    const plan = await planLaunch({
      major: 3,
      container,
      mounts: table,
      env: {},
      freePort: async () => 43000,
    });
    expect(plan.args).toEqual(["serve", configPath]);
    expect(await readFile(configPath, "utf8")).toBe(removedSection);
  });
});

describe("the load balancer proxy", () => {
  const servers: Server[] = [];
  const clock = createClock({ speed: 1 });
  let balancers: LoadBalancers;
  const ports = new Map<string, number>();
  const published: Array<{ ip: string; ports: Array<{ port: number }> }> = [];
  let port: number;

  /** A backend that answers every connection with its name. */
  async function backend(name: string): Promise<void> {
    const server = createServer((socket) => socket.end(name));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    servers.push(server);
    ports.set(name, (server.address() as { port: number }).port);
  }

  async function ask(port: number): Promise<string> {
    const socket = tcpConnect({ host: "127.0.0.1", port });
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk;
    });
    await once(socket, "close");
    return text;
  }

  const service = (affinity: boolean): KubeObject => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "registry", namespace: "ns", uid: "svc-1" },
    spec: {
      type: "LoadBalancer",
      ports: [{ port: 5000 }],
      ...(affinity ? { sessionAffinity: "ClientIP" } : {}),
    },
  });
  const to = (...pods: string[]) =>
    new Map([[5000, pods.map((pod): Backend => ({ namespace: "ns", pod, containerPort: 5000 }))]]);

  beforeAll(async () => {
    await backend("a");
    await backend("b");
    balancers = new LoadBalancers({
      clock,
      hostPort: (_ns, pod) => ports.get(pod),
      publish: (_service, address) => published.push(address),
    });
  });

  afterAll(async () => {
    await balancers.close();
    for (const server of servers) server.close();
    clock.stop();
  });

  it("publishes 127.0.0.1 and a port, and takes turns between ready endpoints", async () => {
    balancers.sync(service(false), to("a", "b"));
    const [address] = await until("the published address", () =>
      published.length > 0 ? published : undefined,
    );
    expect(address!.ip).toBe("127.0.0.1");
    port = address!.ports[0]!.port;
    const answers = [await ask(port), await ask(port), await ask(port), await ask(port)];
    expect(answers.sort()).toEqual(["a", "a", "b", "b"]);
  });

  it("keeps a client on one endpoint under ClientIP affinity, and drops an endpoint that is not ready", async () => {
    balancers.sync(service(true), to("a", "b"));
    const first = await ask(port);
    expect([await ask(port), await ask(port), await ask(port)]).toEqual([first, first, first]);
    const other = first === "a" ? "b" : "a";
    balancers.sync(service(true), to(other));
    expect([await ask(port), await ask(port)]).toEqual([other, other]);
  });

  it("skips an endpoint whose process does not listen", async () => {
    balancers.sync(service(false), to("gone", "b"));
    expect([await ask(port), await ask(port)]).toEqual(["b", "b"]);
    // The Service and its listener did not change, so the address was published once.
    expect(published).toHaveLength(1);
  });
});

describe("pods/portforward refusals", () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox({ speed: 200 });
    sandbox.store.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", namespace: "default" },
      spec: { containers: [{ name: "web", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
    });
  });

  afterAll(async () => {
    await sandbox?.stop();
  });

  /** Opens the portforward WebSocket; resolves with the HTTP status of a refusal or the frames received. */
  function forward(path: string, token: string): Promise<{ status?: number; frames: Buffer[] }> {
    return new Promise((resolve) => {
      const frames: Buffer[] = [];
      const ws = new WebSocket(`${sandbox.url.replace("https", "wss")}${path}`, ["v4.channel.k8s.io"], {
        headers: { Authorization: `Bearer ${token}` },
        ca: sandbox.certificate,
      });
      ws.on("unexpected-response", (_req, res) => {
        resolve({ status: res.statusCode, frames });
        ws.terminate();
      });
      ws.on("message", (data: Buffer) => frames.push(data));
      ws.on("close", () => resolve({ frames }));
      ws.on("error", () => resolve({ frames }));
    });
  }

  it("answers 401 without the token and 404 for a pod that does not exist", async () => {
    expect((await forward("/api/v1/namespaces/default/pods/web/portforward?ports=80", "wrong")).status).toBe(
      401,
    );
    expect(
      (await forward("/api/v1/namespaces/default/pods/nope/portforward?ports=80", sandbox.token)).status,
    ).toBe(404);
    expect(
      (await forward("/api/v1/namespaces/default/pods/web/portforward?ports=http", sandbox.token)).status,
    ).toBe(400);
  });

  it("sends the port on both channels, then an error for a pod without a real process", async () => {
    const { frames } = await forward(
      "/api/v1/namespaces/default/pods/web/portforward?ports=80",
      sandbox.token,
    );
    expect(frames.slice(0, 2).map((f) => [...f])).toEqual([
      [0, 80, 0],
      [1, 80, 0],
    ]);
    const error = frames.find((f, i) => i >= 2 && f[0] === 1);
    expect(error?.subarray(1).toString()).toContain(
      "no process listens on port 80 (the sandbox runs only registry containers as real processes)",
    );
  });
});
