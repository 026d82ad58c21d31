/**
 * The private CA's server certificate on the sandbox, as deploy and status handle it: the registry serves
 * TLS through the load balancer to a client that trusts the CA alone; a certificate near expiry is renewed
 * by the next deploy and the replicas roll to it one at a time, at least two of three ready throughout.
 */
import { X509Certificate } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { requestTrusting } from "../support/request-trusting.js";
import { cleanEnv, runCli } from "../support/run-cli.js";

const PASSWORD = "correct-horse-battery-staple";
const DAY = 86_400_000;
let sbx: TestSandbox;

beforeAll(async () => {
  sbx = await startTestSandbox({ controllers: true, speed: 200 });
}, 120_000);
afterAll(async () => {
  await sbx?.stop();
});

const env = () => cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD });

function deploy(extra: string[] = []) {
  const args = ["--kubeconfig", sbx.kubeconfigPath, "-o", "json", "deploy", "--yes"];
  return runCli([...args, "--efs-file-system-id", "fs-0123456789abcdef0", ...extra], { env: env() });
}

const secretText = (name: string, key: string) =>
  Buffer.from(sbx.sandbox.store.get("Secret", "clouddrove", name)?.data[key], "base64").toString("utf8");
const served = () => new X509Certificate(secretText("registry-clouddrove-tls", "tls.crt"));
const podTemplateDigest = () =>
  sbx.sandbox.store.get("Deployment", "clouddrove", "registry-clouddrove")?.spec.template.metadata
    .annotations["clouddrove.io/certificate-sha256"];

describe("the registry's server certificate on the sandbox", () => {
  let address: string;

  it("serves TLS through the load balancer, with a certificate that names its address", async () => {
    const first = await deploy(["--tls-certificate-days", "20"]);
    expect(first.stderr).not.toContain("Error");
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    address = report.registry.address;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(report.certificate).toMatchObject({
      caCreated: true,
      names: expect.arrayContaining(["127.0.0.1"]),
    });
    // The smoke test ran over HTTPS through every replica.
    expect(report.steps.find((s: { title: string }) => s.title.startsWith("Smoke test")).status).toBe(
      "succeeded",
    );

    const ca = sbx.sandbox.store.get("ConfigMap", "clouddrove", "registry-clouddrove-ca")?.data["ca.crt"];
    expect(ca).toBe(secretText("registry-clouddrove-ca", "ca.crt"));
    expect(served().checkIssued(new X509Certificate(ca))).toBe(true);
    const trusting = requestTrusting({ ca });
    const auth = `Basic ${Buffer.from(`clouddrove:${PASSWORD}`).toString("base64")}`;
    expect((await trusting(`https://${address}/v2/`, { headers: { Authorization: auth } })).status).toBe(200);
    await expect(fetch(`https://${address}/v2/`)).rejects.toThrow();
    // No key in what deploy printed.
    expect(first.stdout + first.stderr).not.toContain("PRIVATE KEY");
    // The replicas rolled out once: the Deployment was applied only with the certificate that names the
    // load balancer, so there is one ReplicaSet, revision 1.
    const deployment = sbx.sandbox.store.get("Deployment", "clouddrove", "registry-clouddrove");
    expect(deployment?.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    const replicaSets = sbx.sandbox.store
      .list("ReplicaSet", { namespace: "clouddrove" })
      .filter((rs) =>
        rs.metadata.ownerReferences?.some((o: { uid: string }) => o.uid === deployment?.metadata.uid),
      );
    expect(replicaSets.map((rs) => rs.metadata.annotations?.["deployment.kubernetes.io/revision"])).toEqual([
      "1",
    ]);
  });

  it("clouddrove login trusts the CA and hands docker the password on stdin; docker then reaches the registry", async () => {
    const work = mkdtempSync(join(tmpdir(), "clouddrove-login-e2e-"));
    const root = join(work, "root");
    mkdirSync(join(work, "bin"));
    // A docker that does what docker login does: verifies the registry's certificate with the CA in its
    // certs.d directory and sends the credentials to /v2/; and records its argv and stdin.
    writeFileSync(
      join(work, "bin", "docker"),
      [
        "#!/bin/sh",
        `printf '%s\\n' "$@" > '${work}/argv'`,
        `/bin/cat > '${work}/stdin'`,
        `curl -sS -o /dev/null -w '%{http_code}' --cacert "${root}/etc/docker/certs.d/$5/ca.crt" -u "$3:$(cat '${work}/stdin')" "https://$5/v2/" > '${work}/status'`,
        "",
      ].join("\n"),
    );
    chmodSync(join(work, "bin", "docker"), 0o755);
    const run = await runCli(
      ["--kubeconfig", sbx.kubeconfigPath, "-o", "json", "login", "--trust-root-dir", root],
      { env: cleanEnv({ PATH: `${join(work, "bin")}:/usr/bin:/bin` }) },
    );
    expect(run.stderr).toContain(`Logged docker in to ${address}`);
    expect(run.stderr).not.toMatch(/Warning|Error/);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).clients).toMatchObject([{ tool: "docker", outcome: "logged-in" }]);
    expect(readFileSync(join(work, "argv"), "utf8")).toBe(
      `login\n--username\nclouddrove\n--password-stdin\n${address}\n`,
    );
    expect(readFileSync(join(work, "stdin"), "utf8")).toBe(PASSWORD);
    expect(readFileSync(join(work, "status"), "utf8")).toBe("200");
    expect(run.stdout).not.toContain(PASSWORD);
    rmSync(work, { recursive: true, force: true });
  });

  it("status warns of a certificate that expires within 30 days", async () => {
    const status = await runCli(["--kubeconfig", sbx.kubeconfigPath, "-o", "json", "status"], { env: env() });
    const tls = JSON.parse(status.stdout).tls;
    expect(tls.mode).toBe("private-ca");
    expect(tls.certificate.daysLeft).toBeLessThanOrEqual(20);
    expect(tls.warnings[0]).toMatch(
      /expires on .* \(in 1?\d day\(s\)\): run `clouddrove deploy` to renew it/,
    );
    expect(JSON.parse(status.stdout).warnings.join("\n")).toContain("expires on");
  });

  it("renews it on the next deploy; the replicas roll one at a time, two or more ready throughout", async () => {
    const before = served();
    const digest = podTemplateDigest();
    let minReady = Number.POSITIVE_INFINITY;
    let maxUnavailable = 0;
    const stop = sbx.sandbox.store.subscribe("Deployment", (event) => {
      if (event.object.metadata.name !== "registry-clouddrove") return;
      const status = event.object.status ?? {};
      minReady = Math.min(minReady, status.readyReplicas ?? 0);
      maxUnavailable = Math.max(maxUnavailable, status.unavailableReplicas ?? 0);
    });
    const second = await deploy();
    stop();
    expect(second.code, second.stderr).toBe(0);
    const report = JSON.parse(second.stdout);
    expect(report.certificate.issued).toMatch(/^the server certificate expires on .* \(in 1?\d day\(s\)\)$/);
    const after = served();
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(new Date(after.validTo).getTime() - Date.now()).toBeGreaterThan(360 * DAY);
    expect(after.subjectAltName).toBe(before.subjectAltName);
    expect(podTemplateDigest()).not.toBe(digest);
    expect(Number.isFinite(minReady)).toBe(true);
    expect(minReady).toBeGreaterThanOrEqual(2);
    expect(maxUnavailable).toBeLessThanOrEqual(1);
    const actions = Object.fromEntries(
      report.objects.map((o: { kind: string; name: string; action: string }) => [
        `${o.kind}/${o.name}`,
        o.action,
      ]),
    );
    expect(actions["Secret/registry-clouddrove-tls"]).toBe("configured");
    expect(actions["Secret/registry-clouddrove-ca"]).toBe("unchanged");
    expect(actions["Deployment/registry-clouddrove"]).toBe("configured");
    // The new pods serve the new certificate through the load balancer.
    const ca = sbx.sandbox.store.get("ConfigMap", "clouddrove", "registry-clouddrove-ca")?.data["ca.crt"];
    const response = await requestTrusting({ ca })(`https://${address}/`);
    expect(response.status).toBe(200);

    const third = await deploy();
    expect(third.code).toBe(0);
    const unchanged = JSON.parse(third.stdout);
    expect(unchanged.objects.every((o: { action: string }) => o.action === "unchanged")).toBe(true);
    expect(unchanged.certificate.issued).toBeUndefined();
  });

  it("--insecure-http serves plain HTTP, warns, and keeps the CA for a switch back", async () => {
    const plain = await deploy(["--insecure-http", "--no-smoke-test"]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toContain("tls.mode insecure-http: the registry speaks plain HTTP");
    const actions = Object.fromEntries(
      JSON.parse(plain.stdout).objects.map((o: { kind: string; name: string; action: string }) => [
        `${o.kind}/${o.name}`,
        o.action,
      ]),
    );
    expect(actions["Secret/registry-clouddrove-tls"]).toBe("pruned");
    expect(actions["Secret/registry-clouddrove-ca"]).toBeUndefined();
    expect(sbx.sandbox.store.get("Secret", "clouddrove", "registry-clouddrove-ca")).toBeDefined();
    const status = await runCli(["--kubeconfig", sbx.kubeconfigPath, "status"], { env: env() });
    expect(status.stdout).toMatch(/Warnings:\n(.*\n)* {2}- .*tls\.mode insecure-http/);
    expect(status.stdout).toContain("TLS:              none (plain HTTP, --insecure-http)");
  });
});
