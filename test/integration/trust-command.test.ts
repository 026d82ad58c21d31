/**
 * `clouddrove trust` against a sandbox API server holding what deploy creates in the private-ca mode (the
 * CA ConfigMap, the CA Secret with its key, the Service with a load balancer address): the files for
 * Docker, containerd and Podman land at the documented paths with the documented contents, under a root
 * directory of the test's; without the rights it writes nothing and prints commands that write the same
 * files; the CA key never appears.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/src/index.js";
import { makeTestCa, type TestCa } from "../../sandbox/test/support/test-ca.js";
import { CLI } from "../support/built-cli.js";
import { cleanEnv, runCli, tempDir } from "../support/run-cli.js";

const NS = "clouddrove";
const LB = "registry-abc123.elb.eu-west-1.amazonaws.com";

let sandbox: Sandbox;
let dir: string;
let kubeconfig: string;
let ca: TestCa;

function addObjects(caConfigMapPem: string) {
  const store = sandbox.store;
  store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  store.create({
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: { name: "registry-clouddrove-ca", namespace: NS },
    data: {
      "ca.crt": Buffer.from(ca.certPem).toString("base64"),
      "ca.key": Buffer.from(ca.keyPem).toString("base64"),
    },
  });
  store.create({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "registry-clouddrove-ca", namespace: NS },
    data: { "ca.crt": caConfigMapPem },
  });
  const service = store.create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "registry-clouddrove", namespace: NS },
    spec: { type: "LoadBalancer", ports: [{ name: "registry", port: 5000, targetPort: 5000 }] },
  });
  store.updateStatus({
    ...service,
    status: { loadBalancer: { ingress: [{ hostname: LB, ip: "203.0.113.7" }] } },
  });
}

beforeAll(async () => {
  dir = tempDir("clouddrove-trust-");
  chmodSync(dir, 0o755);
  ca = makeTestCa(dir);
  sandbox = await startSandbox({ controllers: false });
  kubeconfig = join(dir, "kubeconfig");
  sandbox.writeKubeconfig(kubeconfig);
  chmodSync(kubeconfig, 0o644);
  addObjects(ca.certPem);
});

afterAll(async () => {
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
});

const trust = (root: string, ...args: string[]) =>
  runCli(["--kubeconfig", kubeconfig, "trust", "--trust-root-dir", root, ...args], { env: cleanEnv() });

const EXPECTED_HOSTS_TOML = (hostPort: string) =>
  [
    "# Written by clouddrove: the registry's private CA, for containerd and nerdctl.",
    `server = "https://${hostPort}"`,
    "",
    `[host."https://${hostPort}"]`,
    '  capabilities = ["pull", "resolve", "push"]',
    '  ca = "ca.crt"',
    "",
  ].join("\n");

function expectInstalled(root: string) {
  for (const hostPort of [`${LB}:5000`, "203.0.113.7:5000"]) {
    expect(readFileSync(join(root, "etc/docker/certs.d", hostPort, "ca.crt"), "utf8")).toBe(ca.certPem);
    expect(readFileSync(join(root, "etc/containers/certs.d", hostPort, "ca.crt"), "utf8")).toBe(ca.certPem);
    expect(readFileSync(join(root, "etc/containerd/certs.d", hostPort, "ca.crt"), "utf8")).toBe(ca.certPem);
    expect(readFileSync(join(root, "etc/containerd/certs.d", hostPort, "hosts.toml"), "utf8")).toBe(
      EXPECTED_HOSTS_TOML(hostPort),
    );
  }
}

describe("clouddrove trust", () => {
  it("installs the CA for Docker, containerd and Podman under the root, then changes nothing", async () => {
    const root = join(dir, "root-write");
    const first = await trust(root, "-o", "json");
    expect(first.stderr).not.toContain("PRIVATE KEY");
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.outcome).toBe("written");
    expect(report.addresses).toEqual([`${LB}:5000`, "203.0.113.7:5000"]);
    expect(report.files).toHaveLength(8);
    expect(report.files.every((f: { action: string }) => f.action === "created")).toBe(true);
    expect(report.ca.fingerprint).toBe(
      execFileSync("openssl", ["x509", "-in", ca.certPath, "-noout", "-fingerprint", "-sha256"], {
        encoding: "utf8",
      })
        .trim()
        .replace(/^.*=/, ""),
    );
    expectInstalled(root);

    const again = await trust(root, "-o", "json");
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).files.map((f: { action: string }) => f.action)).toEqual(
      Array(8).fill("unchanged"),
    );

    // A file someone changed is put back.
    const dockerCa = join(root, "etc/docker/certs.d", `${LB}:5000`, "ca.crt");
    writeFileSync(dockerCa, "stale\n");
    const repaired = await trust(root);
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toContain(`updated   ${dockerCa}`);
    expectInstalled(root);
  });

  it("--print-ca prints the PEM and nothing else; --dry-run shows the files and writes none", async () => {
    const root = join(dir, "root-dry");
    const printed = await trust(root, "--print-ca");
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(ca.certPem);

    const dry = await trust(root, "--dry-run");
    expect(dry.code).toBe(0);
    expect(existsSync(root)).toBe(false);
    expect(dry.stdout).toContain(
      `would be created   ${join(root, "etc/containerd/certs.d", `${LB}:5000`, "hosts.toml")}`,
    );
    expect(dry.stdout).toContain(EXPECTED_HOSTS_TOML(`${LB}:5000`).trim());
    expect(dry.stdout).not.toContain("PRIVATE KEY");
  });

  it("without the rights writes nothing, exits 0 and prints commands that write exactly those files", async () => {
    const root = join(dir, "root-readonly");
    mkdirSync(root, { mode: 0o555 });
    chmodSync(root, 0o555);
    // As root every directory is writable: the CLI runs as nobody then, as a user without sudo would.
    const asUser =
      process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    const argv = [
      ...asUser,
      process.execPath,
      CLI,
      "--kubeconfig",
      kubeconfig,
      "trust",
      "--trust-root-dir",
      root,
    ];
    // Not spawnSync: the sandbox's API server answers from this process.
    const run = await execa(argv[0] as string, argv.slice(1), {
      reject: false,
      env: { PATH: process.env.PATH ?? "", HOME: dir, NO_COLOR: "1" },
      extendEnv: false,
    });
    expect(run.stderr).toContain(
      `No rights to write ${root}/etc/docker/certs.d/${LB}:5000/ca.crt: nothing was written`,
    );
    expect(run.exitCode).toBe(0);
    expect(existsSync(join(root, "etc"))).toBe(false);
    const commands = run.stdout.slice(run.stdout.indexOf("sudo install"));
    expect(commands.startsWith("sudo install -d -m 0755")).toBe(true);

    // The printed commands, run as root (here: by the owner of the directory), install the same files.
    chmodSync(root, 0o755);
    execFileSync("sh", ["-e"], { input: commands.replaceAll(/^sudo /gm, "") });
    expectInstalled(root);
  });

  it("refuses a CA ConfigMap that holds a key or a certificate that is not a CA, writing nothing", async () => {
    const root = join(dir, "root-bad");
    const setCaConfigMap = (pem: string) =>
      sandbox.store.update({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "registry-clouddrove-ca", namespace: NS },
        data: { "ca.crt": pem },
      });
    try {
      setCaConfigMap(`${ca.certPem}${ca.keyPem}`);
      const withKey = await trust(root);
      expect(withKey.code).toBe(1);
      expect(withKey.stderr).toContain(`ConfigMap ${NS}/registry-clouddrove-ca holds a private key`);
      expect(withKey.stderr + withKey.stdout).not.toContain(ca.keyPem.split("\n")[1]);

      const leafDir = join(dir, "leaf");
      mkdirSync(leafDir);
      const leafPath = join(leafDir, "leaf.crt");
      execFileSync(
        "openssl",
        [
          ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
          ...["-keyout", join(leafDir, "leaf.key"), "-out", leafPath, "-days", "1", "-subj", "/CN=leaf"],
          ...["-addext", "basicConstraints=critical,CA:FALSE"],
        ],
        { stdio: "ignore" },
      );
      setCaConfigMap(readFileSync(leafPath, "utf8"));
      const leaf = await trust(root);
      expect(leaf.code).toBe(1);
      expect(leaf.stderr).toContain("holds a certificate that is not a CA (CN=leaf)");
      expect(existsSync(root)).toBe(false);
    } finally {
      setCaConfigMap(ca.certPem);
    }
  });

  it("a relative root directory is a usage error (exit 2) naming the setting", async () => {
    const run = await trust("relative/dir");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("trust.rootDir");
  });
});
