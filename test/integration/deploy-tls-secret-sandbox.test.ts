/**
 * tls.mode secret on the sandbox (its load balancer passes TLS through to the pods): deploy serves a
 * user's kubernetes.io/tls Secret, checked before anything is applied (a wrong one is exit 2, nothing
 * changed); the Secret's private issuer is published for clients and nodes; status reports the mode and
 * its logins speak HTTPS trusting that issuer; a renewed certificate in the Secret is noticed by status
 * and rolled by the next deploy one replica at a time, at least two ready throughout. The nodes trust the
 * published issuer (the node-trust DaemonSet's script, run for real), so the sandbox's kubelet pulls a
 * pushed image over TLS with the pull Secret.
 */
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../sandbox/src/types.js";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { until } from "../../sandbox/test/support/wait.js";
import { pushRandomImage } from "../../src/adapters/registry.js";
import { createCertificateAuthority, issueServerCertificate } from "../../src/core/tls/certificates.js";
import { requestTrusting } from "../support/request-trusting.js";
import { cleanEnv, runCli } from "../support/run-cli.js";

const PASSWORD = "correct-horse-battery-staple";
const NS = "clouddrove";
let sbx: TestSandbox;
let issuer: { certificate: string; key: string };

const b64 = (text: string) => Buffer.from(text).toString("base64");
const env = () => cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD });
const auth = `Basic ${Buffer.from(`clouddrove:${PASSWORD}`).toString("base64")}`;

function deploy(extra: string[] = []) {
  const args = ["--kubeconfig", sbx.kubeconfigPath, "-o", "json", "deploy", "--yes"];
  return runCli([...args, "--efs-file-system-id", "fs-0123456789abcdef0", "--tls-mode", "secret", ...extra], {
    env: env(),
  });
}

/** The user's Secret, as `kubectl create secret tls` (plus ca.crt, as cert-manager writes it) would make it. */
async function putSecret(name: string, type = "kubernetes.io/tls"): Promise<string> {
  const server = await issueServerCertificate(issuer, { dns: [], ips: ["127.0.0.1"] }, new Date(), 60);
  const secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: NS },
    type,
    data: {
      "tls.crt": b64(server.certificate),
      "tls.key": b64(server.key),
      "ca.crt": b64(issuer.certificate),
    },
  };
  const live = sbx.sandbox.store.get("Secret", NS, name);
  if (live) sbx.sandbox.store.update({ ...secret, metadata: { ...live.metadata } });
  else sbx.sandbox.store.create(secret);
  return server.certificate;
}

const podTemplateDigest = () =>
  sbx.sandbox.store.get("Deployment", NS, "registry-clouddrove")?.spec.template.metadata.annotations[
    "clouddrove.io/certificate-sha256"
  ];

beforeAll(async () => {
  sbx = await startTestSandbox({ controllers: true, speed: 200 });
  issuer = await createCertificateAuthority("Example Corp internal CA", new Date());
  sbx.sandbox.store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
}, 120_000);
afterAll(async () => {
  await sbx?.stop();
});

describe("tls.mode secret on the sandbox", () => {
  let address: string;
  let certificate: string;

  it("refuses a Secret that is not kubernetes.io/tls with exit 2, before any write", async () => {
    await putSecret("not-tls", "Opaque");
    const refused = await deploy(["--tls-secret", "not-tls"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      "Secret clouddrove/not-tls is of type Opaque, not kubernetes.io/tls; nothing was changed.",
    );
    expect(sbx.sandbox.store.get("Deployment", NS, "registry-clouddrove")).toBeUndefined();
  });

  it("serves the user's certificate through the load balancer to a client trusting its issuer", async () => {
    certificate = await putSecret("registry-tls");
    const first = await deploy(["--tls-secret", "registry-tls"]);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout);
    address = report.registry.address;
    expect(report.certificate).toMatchObject({
      secret: "registry-tls",
      names: ["127.0.0.1"],
      caCreated: false,
    });
    expect(report.usage.trust[0]).toContain("clouddrove trust");
    expect(report.steps.find((s: { title: string }) => s.title.startsWith("Smoke test")).status).toBe(
      "succeeded",
    );
    const names = report.objects.map((o: { kind: string; name: string }) => `${o.kind}/${o.name}`);
    expect(names).not.toContain("Secret/registry-clouddrove-tls");
    // The issuer is published where `clouddrove trust` and the node-trust DaemonSet read it.
    const published = sbx.sandbox.store.get("ConfigMap", NS, "registry-clouddrove-ca")?.data["ca.crt"];
    expect(published).toBe(issuer.certificate);
    const response = await requestTrusting({ ca: issuer.certificate })(`https://${address}/v2/`, {
      headers: { Authorization: auth },
    });
    expect(response.status).toBe(200);
    await expect(fetch(`https://${address}/v2/`)).rejects.toThrow();
    expect(first.stdout + first.stderr).not.toContain("PRIVATE KEY");
  });

  it("status reports the Secret and logs in on every replica over HTTPS", async () => {
    const status = await runCli(["--kubeconfig", sbx.kubeconfigPath, "-o", "json", "status"], { env: env() });
    const parsed = JSON.parse(status.stdout);
    expect(parsed.tls).toMatchObject({
      mode: "secret",
      source: "registry-tls",
      privateCa: true,
      warnings: [],
    });
    expect(parsed.problems).toEqual([]);
  });

  it("a Pod of a pushed image runs: the nodes trust the Secret's issuer, and the pull Secret authenticates", async () => {
    await pushRandomImage(
      {
        baseUrl: `https://${address}`,
        username: "clouddrove",
        password: PASSWORD,
        tls: { ca: issuer.certificate },
      },
      "team/app",
      "v1",
    );
    // A workload namespace with a copy of the pull Secret, as a team would run it.
    const pull = sbx.sandbox.store.get("Secret", NS, "registry-clouddrove-pull") as KubeObject;
    sbx.sandbox.store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
    sbx.sandbox.store.create({
      apiVersion: "v1",
      kind: "Secret",
      type: pull.type,
      metadata: { name: "registry-pull", namespace: "team" },
      data: pull.data,
    });
    sbx.sandbox.store.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "app", namespace: "team" },
      spec: {
        containers: [{ name: "app", image: `${address}/team/app:v1` }],
        imagePullSecrets: [{ name: "registry-pull" }],
      },
    });
    const app = () => sbx.sandbox.store.get("Pod", "team", "app") as KubeObject;
    await until("the pod pulled over TLS to be running", () => app()?.status?.phase === "Running", 90_000);
    expect(app().status.containerStatuses[0].imageID).toContain("sha256:");
  });

  it("notices a renewed certificate and rolls the replicas to it on the next deploy, one at a time", async () => {
    const digest = podTemplateDigest();
    const renewed = await putSecret("registry-tls");
    expect(renewed).not.toBe(certificate);
    const status = await runCli(["--kubeconfig", sbx.kubeconfigPath, "-o", "json", "status"], { env: env() });
    expect(JSON.parse(status.stdout).tls.warnings.join("\n")).toContain(
      "the certificate in Secret registry-tls changed since the replicas started",
    );
    let minReady = Number.POSITIVE_INFINITY;
    let maxUnavailable = 0;
    const stop = sbx.sandbox.store.subscribe("Deployment", (event) => {
      if (event.object.metadata.name !== "registry-clouddrove") return;
      minReady = Math.min(minReady, event.object.status?.readyReplicas ?? 0);
      maxUnavailable = Math.max(maxUnavailable, event.object.status?.unavailableReplicas ?? 0);
    });
    const second = await deploy(["--tls-secret", "registry-tls"]);
    stop();
    expect(second.code, second.stderr).toBe(0);
    expect(podTemplateDigest()).not.toBe(digest);
    expect(Number.isFinite(minReady)).toBe(true);
    expect(minReady).toBeGreaterThanOrEqual(2);
    expect(maxUnavailable).toBeLessThanOrEqual(1);
    // The pods behind the load balancer now serve the renewed certificate.
    const servedNow = await new Promise<string>((resolve, reject) => {
      const [host, port] = address.split(":");
      import("node:tls").then(({ connect }) => {
        const socket = connect({ host, port: Number(port), ca: issuer.certificate }, () => {
          resolve(socket.getPeerCertificate().fingerprint256);
          socket.end();
        });
        socket.on("error", reject);
      });
    });
    expect(servedNow).toBe(new X509Certificate(renewed).fingerprint256);
  });
});
