/**
 * The sandbox's real image pull against the real docker-registry 2.8.2 serving TLS with a private CA and
 * htpasswd: the manifest and config blob of an image the test pushed are fetched only with the node's
 * trust (the certs.d files the node-trust DaemonSet's script writes, run here under busybox) and the
 * pull Secret's credentials; otherwise the reason is containerd's: x509 unknown authority, 401, not found.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../src/index.js";
import { pullImage } from "../../src/runtime/image-pull.js";
import { freePort } from "../../src/runtime/ports.js";
import type { KubeObject } from "../../src/types.js";
import { pushTestImage } from "../support/push-image.js";
import { makeServerCertificate, makeTestCa } from "../support/test-ca.js";
import { until } from "../support/wait.js";

const dir = mkdtempSync(join(tmpdir(), "clouddrove-image-pull-"));
const children: ChildProcess[] = [];
const USER = "clouddrove";
const PASSWORD = "s3cret-pull-password";
let tlsPort: number;
let manifestDigest: string;
let trustedCertsDir: string;
let caPem: string;

function startRegistry(name: string, port: number, tls?: { certificate: string; key: string }): ChildProcess {
  const config = [
    "version: 0.1",
    "log: {level: warn}",
    `storage: {filesystem: {rootdirectory: ${join(dir, "data")}}}`,
    `auth: {htpasswd: {realm: clouddrove, path: ${join(dir, "htpasswd")}}}`,
    "http:",
    `  addr: 127.0.0.1:${port}`,
    ...(tls ? ["  tls:", `    certificate: ${tls.certificate}`, `    key: ${tls.key}`] : []),
  ].join("\n");
  writeFileSync(join(dir, `${name}.yml`), config);
  const child = spawn("docker-registry", ["serve", join(dir, `${name}.yml`)], {
    env: { PATH: process.env.PATH ?? "" },
    stdio: "ignore",
  });
  children.push(child);
  return child;
}

async function listening(port: number): Promise<void> {
  const { connect } = await import("node:net");
  let open = false;
  await until(
    `the registry on port ${port}`,
    () => {
      const socket = connect(port, "127.0.0.1");
      socket.on("connect", () => {
        open = true;
        socket.destroy();
      });
      socket.on("error", () => socket.destroy());
      return open;
    },
    20_000,
    100,
  );
}

/** The node-trust DaemonSet's own script, under busybox, writing a node's certs.d for `registry`. */
async function nodeTrust(certsDir: string, registry: string, caPem: string): Promise<string> {
  const caFile = join(dir, `ca-${children.length}.crt`);
  writeFileSync(caFile, caPem);
  const script = new URL("../../../templates/node-trust/install-ca.sh", import.meta.url);
  const child = spawn("/bin/busybox", ["sh", script.pathname], {
    env: { PATH: process.env.PATH ?? "", REGISTRIES: registry, CERTS_DIR: certsDir, CA_FILE: caFile },
    stdio: ["ignore", "pipe", "inherit"],
    // Its own process group, so that stopping it stops its sleep too (which holds the output pipe).
    detached: true,
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  await until("the node-trust script", () => output.includes("trusts the registry's CA"), 20_000);
  process.kill(-(child.pid as number), "SIGKILL");
  return certsDir;
}

const dockerConfig = (user: string, password: string, host: string) =>
  JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } } });

beforeAll(async () => {
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "htpasswd"), `${USER}:${bcrypt.hashSync(PASSWORD, 10)}\n`);
  const ca = makeTestCa(dir);
  const server = makeServerCertificate(dir, ca, ["localhost", "127.0.0.1"]);
  tlsPort = await freePort();
  const httpPort = await freePort();
  startRegistry("tls", tlsPort, { certificate: server.certPath, key: server.keyPath });
  // A second process on the same storage, over HTTP, only for the test's push.
  startRegistry("http", httpPort);
  await Promise.all([listening(tlsPort), listening(httpPort)]);
  const pushed = await pushTestImage(
    `http://127.0.0.1:${httpPort}`,
    { username: USER, password: PASSWORD },
    "team/app",
    "v1",
  );
  manifestDigest = pushed.manifestDigest;
  caPem = readFileSync(ca.certPath, "utf8");
  trustedCertsDir = await nodeTrust(
    join(dir, "node-a", "etc/containerd/certs.d"),
    `127.0.0.1:${tlsPort}`,
    caPem,
  );
});

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("a real pull from the registry over TLS", () => {
  const image = () => `127.0.0.1:${tlsPort}/team/app:v1`;
  const host = () => `127.0.0.1:${tlsPort}`;

  it("succeeds with the node's trust and the pull Secret, resolving the pushed manifest", async () => {
    const result = await pullImage({
      image: image(),
      certsDir: trustedCertsDir,
      dockerConfigs: [dockerConfig(USER, PASSWORD, host())],
    });
    expect(result).toEqual({ ok: true, manifestDigest });
  });

  it("fails with x509 unknown authority on a node that does not trust the CA", async () => {
    const result = await pullImage({
      image: image(),
      certsDir: join(dir, "untrusted-node"),
      dockerConfigs: [dockerConfig(USER, PASSWORD, host())],
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain("x509: certificate signed by unknown authority");
  });

  it("fails with 401 without the pull Secret, or with a wrong password", async () => {
    for (const dockerConfigs of [[], [dockerConfig(USER, "wrong", host())]]) {
      const result = await pullImage({ image: image(), certsDir: trustedCertsDir, dockerConfigs });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toContain("401 Unauthorized");
    }
  });

  it("fails with not found for a tag that was never pushed", async () => {
    const result = await pullImage({
      image: `127.0.0.1:${tlsPort}/team/app:v2`,
      certsDir: trustedCertsDir,
      dockerConfigs: [dockerConfig(USER, PASSWORD, `https://${host()}`)],
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(`127.0.0.1:${tlsPort}/team/app:v2: not found`);
  });
});

describe("the sandbox kubelet pulls images of a registry on 127.0.0.1 for real", () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ speed: 20 });
    sandbox.store.create({
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/dockerconfigjson",
      metadata: { name: "pull", namespace: "default" },
      data: {
        ".dockerconfigjson": Buffer.from(dockerConfig(USER, PASSWORD, `127.0.0.1:${tlsPort}`)).toString(
          "base64",
        ),
      },
    });
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  const pod = (name: string, image: string, options: { secret?: boolean; node?: string } = {}) =>
    sandbox.store.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default" },
      spec: {
        ...(options.node ? { nodeName: options.node } : {}),
        containers: [{ name: "app", image }],
        ...(options.secret === false ? {} : { imagePullSecrets: [{ name: "pull" }] }),
      },
    });
  const current = (name: string) => sandbox.store.get("Pod", "default", name) as KubeObject;
  const waiting = (name: string) => current(name)?.status?.containerStatuses?.[0]?.state?.waiting;

  it("keeps a pod in ErrImagePull/ImagePullBackOff (x509) until its node trusts the CA, then runs it", async () => {
    pod("trusting", `127.0.0.1:${tlsPort}/team/app:v1`);
    const untrusted = await until(
      "the pull to fail on the node that does not trust the CA",
      () => (waiting("trusting")?.message?.includes("x509") ? waiting("trusting") : undefined),
      30_000,
    );
    expect(["ErrImagePull", "ImagePullBackOff"]).toContain(untrusted.reason);
    expect(untrusted.message).toContain("x509: certificate signed by unknown authority");
    expect(current("trusting").status.phase).toBe("Pending");

    const node = current("trusting").spec.nodeName as string;
    const runtime = sandbox.runtime;
    if (!runtime) throw new Error("the sandbox runs without its runtime");
    await nodeTrust(
      runtime.processes.nodePath(node, "/etc/containerd/certs.d"),
      `127.0.0.1:${tlsPort}`,
      caPem,
    );
    await until(
      "the pod to run once the node trusts the CA",
      () => current("trusting").status?.phase === "Running",
      60_000,
    );
    expect(current("trusting").status.containerStatuses[0].state.running).toBeDefined();
  });

  it("on a trusting node, fails with 401 without the pull Secret and with not found for an unknown tag", async () => {
    const node = current("trusting").spec.nodeName as string;
    pod("no-secret", `127.0.0.1:${tlsPort}/team/app:v1`, { secret: false, node });
    pod("no-tag", `127.0.0.1:${tlsPort}/team/app:v2`, { node });
    const denied = await until(
      "the pull without credentials to fail",
      () => waiting("no-secret")?.message,
      30_000,
    );
    expect(denied).toContain("401 Unauthorized");
    const missing = await until(
      "the pull of an unknown tag to fail",
      () => waiting("no-tag")?.message,
      30_000,
    );
    expect(missing).toContain(`127.0.0.1:${tlsPort}/team/app:v2: not found`);
    expect(current("no-secret").status.phase).toBe("Pending");
  });
});
