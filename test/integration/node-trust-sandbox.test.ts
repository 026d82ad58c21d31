/**
 * The nodes' trust on the sandbox, end to end: deploy applies the node-trust DaemonSet, whose pods run
 * install-ca.sh for real (the host's sh) into each node's containerd certs.d; the sandbox's kubelet pulls
 * with exactly that directory and the Pod's imagePullSecrets. So a Pod whose image the test pushed to the
 * registry runs only on a node that trusts the CA and with the pull Secret; otherwise it waits in
 * ErrImagePull/ImagePullBackOff with containerd's words for the real cause.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../sandbox/src/types.js";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { until } from "../../sandbox/test/support/wait.js";
import { pushRandomImage } from "../../src/adapters/registry.js";
import { hostsToml } from "../../src/core/trust/client-files.js";
import { cleanEnv, runCli } from "../support/run-cli.js";

const PASSWORD = "correct-horse-battery-staple";
const NS = "team";
let sbx: TestSandbox;
let address: string;
let ca: string;

beforeAll(async () => {
  sbx = await startTestSandbox({ controllers: true, speed: 200 });
  const deployed = await runCli(
    [
      "--kubeconfig",
      sbx.kubeconfigPath,
      "-o",
      "json",
      "deploy",
      "--yes",
      "--efs-file-system-id",
      "fs-0123456789abcdef0",
    ],
    { env: cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD }) },
  );
  if (deployed.code !== 0) throw new Error(`deploy failed: ${deployed.stderr}`);
  address = JSON.parse(deployed.stdout).registry.address;
  ca = sbx.sandbox.store.get("ConfigMap", "clouddrove", "registry-clouddrove-ca")?.data["ca.crt"];
  // Workloads live in a namespace of their own, with a copy of the pull Secret, as a team would run them.
  const pull = sbx.sandbox.store.get("Secret", "clouddrove", "registry-clouddrove-pull") as KubeObject;
  sbx.sandbox.store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  sbx.sandbox.store.create({
    apiVersion: "v1",
    kind: "Secret",
    type: pull.type,
    metadata: { name: "registry-pull", namespace: NS },
    data: pull.data,
  });
}, 180_000);
afterAll(async () => {
  await sbx?.stop();
});

const certsDir = (node: string) =>
  sbx.sandbox.runtime?.processes.nodePath(node, "/etc/containerd/certs.d") as string;
const nodes = () => sbx.sandbox.store.list("Node").map((node) => node.metadata.name as string);
const pod = (name: string, image: string, options: { secret?: boolean; node?: string } = {}) =>
  sbx.sandbox.store.create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NS },
    spec: {
      ...(options.node ? { nodeName: options.node } : {}),
      containers: [{ name: "app", image }],
      ...(options.secret === false ? {} : { imagePullSecrets: [{ name: "registry-pull" }] }),
    },
  });
const current = (name: string) => sbx.sandbox.store.get("Pod", NS, name) as KubeObject;
const waiting = (name: string) => current(name)?.status?.containerStatuses?.[0]?.state?.waiting;

describe("the nodes' trust on the sandbox", () => {
  it("the node-trust pods write the CA and hosts.toml into every node's certs.d, by running install-ca.sh", async () => {
    expect(nodes()).toHaveLength(3);
    for (const node of nodes()) {
      const dir = join(certsDir(node), address);
      await until(`${node} trusts the CA`, () => {
        try {
          return readFileSync(join(dir, "ca.crt"), "utf8") === ca;
        } catch {
          return undefined;
        }
      });
      expect(readFileSync(join(dir, "hosts.toml"), "utf8")).toBe(
        hostsToml({ host: "127.0.0.1", port: Number(address.split(":")[1]) }),
      );
    }
    // What the pods said: the script's own words, from the real process.
    const trustPods = sbx.sandbox.store.list("Pod", { namespace: "clouddrove-node-trust" });
    expect(trustPods).toHaveLength(3);
    const log = sbx.sandbox.runtime?.processes.logs(
      "clouddrove-node-trust",
      trustPods[0]?.metadata.name as string,
    );
    expect(log).toContain(`containerd on this node trusts the registry's CA for: ${address}`);
  });

  it("runs a pod of a pushed image with the pull Secret; without it the pull is 401", async () => {
    await pushRandomImage(
      { baseUrl: `https://${address}`, username: "clouddrove", password: PASSWORD, tls: { ca } },
      "team/app",
      "v1",
    );
    const image = `${address}/team/app:v1`;
    pod("with-secret", image);
    pod("without-secret", image, { secret: false });
    await until(
      "the pod with the pull Secret running",
      () => current("with-secret")?.status?.phase === "Running",
      60_000,
    );
    // ErrImagePull with the reason, then ImagePullBackOff between tries: the reason is the one to see.
    const denied = await until(
      "the pull without credentials to fail with the reason",
      () => (waiting("without-secret")?.message?.includes("401") ? waiting("without-secret") : undefined),
      60_000,
    );
    expect(denied.reason).toBe("ErrImagePull");
    expect(denied.message).toContain("401 Unauthorized");
    expect(current("without-secret").status.phase).toBe("Pending");
  });

  it("a node without the CA fails the pull (x509) until its node-trust pod writes it again", async () => {
    const node = nodes()[0] as string;
    rmSync(join(certsDir(node), address), { recursive: true, force: true });
    pod("untrusted-node", `${address}/team/app:v1`, { node });
    const untrusted = await until(
      "the pull on the node without the CA to fail",
      () => (waiting("untrusted-node")?.message?.includes("x509") ? waiting("untrusted-node") : undefined),
      60_000,
    );
    expect(untrusted.message).toContain("x509: certificate signed by unknown authority");
    expect(current("untrusted-node").status.phase).toBe("Pending");
    // The DaemonSet's pod on that node, replaced, runs the script again at start.
    const trustPod = sbx.sandbox.store
      .list("Pod", { namespace: "clouddrove-node-trust" })
      .find((p) => p.spec?.nodeName === node) as KubeObject;
    sbx.sandbox.store.delete("Pod", "clouddrove-node-trust", trustPod.metadata.name, {
      gracePeriodSeconds: 0,
    });
    await until(
      "the pod to run once the node trusts the CA again",
      () => current("untrusted-node")?.status?.phase === "Running",
      120_000,
    );
  });
});
