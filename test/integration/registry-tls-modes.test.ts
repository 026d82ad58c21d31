/**
 * The real registry binary (Distribution 2.8.2) in the TLS modes secret and acm, with exactly the
 * rendered config.yml, variables and mounts: with tls.mode secret it serves the certificate of a user's
 * kubernetes.io/tls Secret (curl trusting the Secret's issuer gets 200, without it the handshake fails);
 * with tls.mode acm it speaks plain HTTP behind the load balancer and writes relative upload URLs, so a
 * client keeps the https:// address it used.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import { type KubeObject, renderManifests } from "../../src/core/render/index.js";
import { createCertificateAuthority, issueServerCertificate } from "../../src/core/tls/certificates.js";
import { privateIssuer, servedSecretProblems } from "../../src/core/tls/served-secret.js";
import { type RegistryProcess, replicaSpec, startRegistry } from "../support/registry-process.js";

const USER = "clouddrove";
const PASSWORD = "correct horse battery staple";
const HOSTNAME = "registry.example.com";
const ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f";
const credentials = {
  username: USER,
  password: PASSWORD,
  httpSecret: "a3f1c9e07b5d4e2a8c6f0b1d9e7a5c3f",
  htpasswd: `${USER}:${bcrypt.hashSync(PASSWORD, 4)}`,
};
const b64 = (text: string) => Buffer.from(text).toString("base64");

function curl(args: string[]): { code: number | null; status: string; stderr: string; stdout: string } {
  const result = spawnSync("curl", ["-sS", "--max-time", "10", ...args], { encoding: "utf8" });
  const [body = "", status = ""] = result.stdout.split("\nSTATUS:");
  return { code: result.status, status, stdout: body, stderr: result.stderr };
}
const withStatus = ["-w", "\nSTATUS:%{http_code}"];

describe("tls.mode secret: the registry serves a user's kubernetes.io/tls Secret", () => {
  let registry: RegistryProcess;
  let work: string;
  let caFile: string;
  let port: string;
  const at = (name: string) => ["--resolve", `${name}:${port}:127.0.0.1`, `https://${name}:${port}/v2/`];

  beforeAll(async () => {
    const now = new Date();
    // The user's own issuer (a company CA), and a certificate for the name clients use.
    const issuer = await createCertificateAuthority("Example Corp internal CA", now);
    const server = await issueServerCertificate(issuer, { dns: [HOSTNAME], ips: [] }, now, 30);
    const secret = {
      type: "kubernetes.io/tls",
      certificate: server.certificate,
      key: server.key,
      caCertificate: issuer.certificate,
    };
    expect(await servedSecretProblems(secret, "clouddrove/registry-tls", [HOSTNAME], now)).toEqual([]);
    const { config } = resolveConfig({
      set: [
        "storage.efs.fileSystemId=fs-0123456789abcdef0",
        "tls.mode=secret",
        "tls.secretName=registry-tls",
        `tls.hostname=${HOSTNAME}`,
      ],
    });
    const objects: KubeObject[] = await renderManifests(config, credentials, undefined, {
      secretName: "registry-tls",
      certificate: server.certificate,
      privateCa: privateIssuer(secret),
    });
    // The Secret as the cluster holds it (the user made it; clouddrove does not render it).
    objects.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "registry-tls", namespace: "clouddrove" },
      type: "kubernetes.io/tls",
      data: {
        "tls.crt": b64(server.certificate),
        "tls.key": b64(server.key),
        "ca.crt": b64(issuer.certificate),
      },
    });
    work = await mkdtemp(join(tmpdir(), "clouddrove-tls-secret-"));
    caFile = join(work, "ca.crt");
    // What `clouddrove trust` installs: the issuer as published in ConfigMap registry-clouddrove-ca.
    const configMap = objects.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name === "registry-clouddrove-ca",
    ) as (KubeObject & { data: Record<string, string> }) | undefined;
    await writeFile(caFile, configMap?.data["ca.crt"] ?? "");
    const spec = replicaSpec(objects);
    expect(spec.tls?.certificate).toBe(server.certificate);
    registry = await startRegistry({ replica: spec, rootDirectory: join(work, "data") });
    port = new URL(registry.baseUrl).port;
  });

  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("answers 200 with the credentials to a client trusting the Secret's issuer, 401 without them", () => {
    expect(
      curl([
        "-o",
        "/dev/null",
        ...withStatus,
        "--cacert",
        caFile,
        "-u",
        `${USER}:${PASSWORD}`,
        ...at(HOSTNAME),
      ]),
    ).toMatchObject({
      code: 0,
      status: "200",
    });
    expect(curl(["-o", "/dev/null", ...withStatus, "--cacert", caFile, ...at(HOSTNAME)]).status).toBe("401");
  });

  it("fails the handshake for a client without the issuer's CA", () => {
    const untrusted = curl(["-o", "/dev/null", "-u", `${USER}:${PASSWORD}`, ...at(HOSTNAME)]);
    expect(untrusted.code).toBe(60);
    expect(untrusted.stderr).toMatch(/unable to get local issuer certificate|self.signed|not trusted/i);
  });
});

describe("tls.mode acm: the registry behind the load balancer's TLS listener", () => {
  let registry: RegistryProcess;
  let work: string;

  beforeAll(async () => {
    const { config } = resolveConfig({
      set: [
        "storage.efs.fileSystemId=fs-0123456789abcdef0",
        "tls.mode=acm",
        `tls.certificateArn=${ARN}`,
        `tls.hostname=${HOSTNAME}`,
        "cluster.region=eu-west-1",
      ],
    });
    const objects = await renderManifests(config, credentials);
    work = await mkdtemp(join(tmpdir(), "clouddrove-tls-acm-"));
    registry = await startRegistry({ replica: replicaSpec(objects), rootDirectory: join(work, "data") });
  });

  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("speaks plain HTTP to the load balancer", () => {
    expect(registry.baseUrl).toMatch(/^http:/);
    expect(
      curl(["-o", "/dev/null", ...withStatus, "-u", `${USER}:${PASSWORD}`, `${registry.baseUrl}/v2/`]).status,
    ).toBe("200");
  });

  it("answers an upload with a relative Location, which a client resolves against its https:// address", () => {
    const answer = curl([
      "-D",
      "-",
      "-o",
      "/dev/null",
      ...withStatus,
      "-X",
      "POST",
      "-u",
      `${USER}:${PASSWORD}`,
      `${registry.baseUrl}/v2/team/app/blobs/uploads/`,
    ]);
    expect(answer.status).toBe("202");
    const location = /^location: (.*)$/im.exec(answer.stdout)?.[1]?.trim();
    expect(location).toMatch(/^\/v2\/team\/app\/blobs\/uploads\/[0-9a-f-]+\?_state=/);
  });
});
