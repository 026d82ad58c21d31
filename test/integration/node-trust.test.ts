/**
 * The nodes' trust, for real where it can be: the SAME install-ca.sh the DaemonSet runs, under busybox sh
 * with busybox's userland only (as in the pinned Alpine image), writes containerd's certs.d exactly as
 * `clouddrove trust` does and puts back what is removed; and the node-trust steps deploy runs apply the
 * objects to a sandbox cluster and wait until a pod runs on each of its three nodes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { Listr } from "listr2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/src/index.js";
import { makeTestCa } from "../../sandbox/test/support/test-ca.js";
import { until } from "../../sandbox/test/support/wait.js";
import { connectKube } from "../../src/adapters/kube.js";
import { parseCaCertificate } from "../../src/core/trust/ca.js";
import { hostsToml } from "../../src/core/trust/client-files.js";
import { nodeTrustSteps, readNodeTrustTemplates } from "../../src/steps/trust/node-trust.js";
import { tempDir } from "../support/run-cli.js";

const dir = tempDir("clouddrove-node-trust-");
const ca = makeTestCa(dir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A PATH of busybox applets only: what the Alpine image offers the script. */
function busyboxPath(): string {
  const bin = join(dir, "busybox-bin");
  mkdirSync(bin);
  for (const applet of ["sh", "cat", "cmp", "mkdir", "mv", "rm", "chmod", "sleep", "printf", "echo"]) {
    symlinkSync("/bin/busybox", join(bin, applet));
  }
  return bin;
}

describe("install-ca.sh (the DaemonSet's script) under busybox", () => {
  let script: string;
  let path: string;
  const running: ChildProcess[] = [];
  beforeAll(async () => {
    script = join(dir, "install-ca.sh");
    writeFileSync(script, (await readNodeTrustTemplates()).script);
    writeFileSync(join(dir, "ca.crt"), ca.certPem);
    path = busyboxPath();
  });
  afterAll(() => {
    for (const child of running) {
      if (child.exitCode === null && child.signalCode === null)
        process.kill(-(child.pid as number), "SIGKILL");
    }
  });

  const start = (certsDir: string, registries: string) => {
    const child = spawn("/bin/busybox", ["sh", script], {
      env: {
        PATH: path,
        REGISTRIES: registries,
        CERTS_DIR: certsDir,
        CA_FILE: join(dir, "ca.crt"),
        RECHECK_SECONDS: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so that stopping it stops its sleep too (which holds the output pipes).
      detached: true,
    });
    running.push(child);
    let output = "";
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    return { child, output: () => output };
  };

  it("writes ca.crt and the same hosts.toml as clouddrove trust for every address, and puts back a removed file", async () => {
    const certsDir = join(dir, "node-a", "etc/containerd/certs.d");
    const { output } = start(certsDir, "r.elb.amazonaws.com:5000 203.0.113.7:5000");
    await until("the script to say it is done", () => output().includes("trusts the registry's CA"), 20_000);
    for (const [host, port] of [
      ["r.elb.amazonaws.com", 5000],
      ["203.0.113.7", 5000],
    ] as const) {
      const hostDir = join(certsDir, `${host}:${port}`);
      expect(readFileSync(join(hostDir, "ca.crt"), "utf8")).toBe(ca.certPem);
      expect(readFileSync(join(hostDir, "hosts.toml"), "utf8")).toBe(hostsToml({ host, port }));
    }
    const removed = join(certsDir, "203.0.113.7:5000", "hosts.toml");
    rmSync(removed);
    await until("the removed hosts.toml to be written again", () => existsSync(removed), 20_000);
    expect(readFileSync(removed, "utf8")).toBe(hostsToml({ host: "203.0.113.7", port: 5000 }));
  });

  it("ends with exit 0 on SIGTERM, as a pod stopping is sent it, without waiting for its next check", async () => {
    const { child, output } = start(join(dir, "node-c", "certs.d"), "r.example:5000");
    await until("the script to say it is done", () => output().includes("trusts the registry's CA"), 20_000);
    child.kill("SIGTERM");
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.once("exit", (c, s) => resolve([c, s])),
    );
    expect([code, signal]).toEqual([0, null]);
  });

  it("refuses an address that would leave the certs.d directory, and exits non-zero", async () => {
    const certsDir = join(dir, "node-b", "certs.d");
    const { child, output } = start(certsDir, "../../etc:5000");
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).not.toBe(0);
    expect(output()).toContain("refusing registry address '../../etc:5000'");
    expect(existsSync(join(dir, "etc"))).toBe(false);
  });
});

describe("the node-trust steps against the sandbox", () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ runtime: false, speed: 50 });
  });
  afterAll(async () => {
    await sandbox.stop();
  });

  it("apply the objects and wait until one pod runs on each node; a second run changes nothing", async () => {
    const kube = await connectKube({ kubeconfigText: sandbox.kubeconfig() });
    try {
      const context = {
        kube,
        ca: parseCaCertificate(ca.certPem, "test CA"),
        addresses: [{ host: "r.elb.amazonaws.com", port: 5000 }],
        image: "alpine:3.20.3",
        timeoutMs: 60_000,
      };
      await new Listr(nodeTrustSteps(), { renderer: "silent" }).run(context);
      const pods = await kube.list<V1Pod>("v1", "Pod", {
        namespace: "clouddrove-node-trust",
      });
      const nodes = await kube.list("v1", "Node");
      expect(nodes).toHaveLength(3);
      expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBe(3);
      expect(pods.every((p) => p.status?.phase === "Running")).toBe(true);
      const before = await kube.get<{ metadata: { resourceVersion?: string } }>(
        "apps/v1",
        "DaemonSet",
        "registry-clouddrove-node-trust",
        "clouddrove-node-trust",
      );
      await new Listr(nodeTrustSteps(), { renderer: "silent" }).run(context);
      const after = await kube.get<{ metadata: { resourceVersion?: string } }>(
        "apps/v1",
        "DaemonSet",
        "registry-clouddrove-node-trust",
        "clouddrove-node-trust",
      );
      expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    } finally {
      kube.http.close();
    }
  });
});
