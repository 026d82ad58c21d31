/**
 * The real registry binary (Distribution 2.8.2) serving TLS with exactly the rendered config.yml and the
 * certificates deploy makes (tls.mode private-ca), checked with curl as a client would: it trusts the
 * private CA and nothing else, the certificate's names cover the load balancer's name and --hostname, and
 * plain HTTP on the TLS port is refused.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import { type KubeObject, renderManifests, type ServerTls } from "../../src/core/render/index.js";
import { readCertificate } from "../../src/core/tls/certificates.js";
import { prepareServerTls } from "../../src/core/tls/prepare.js";
import { type RegistryProcess, replicaSpec, startRegistry } from "../support/registry-process.js";

const USER = "clouddrove";
const PASSWORD = "correct horse battery staple";
const HOSTNAME = "registry.example.com";
const LOAD_BALANCER = "k8s-clouddrov-registry-0123456789.elb.eu-west-1.amazonaws.com";

/** curl as a client runs it; `name` is resolved to the replica (as DNS would resolve it to the NLB). */
function curl(args: string[]): { code: number | null; status: string; stderr: string } {
  const result = spawnSync(
    "curl",
    ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", ...args],
    {
      encoding: "utf8",
    },
  );
  return { code: result.status, status: result.stdout, stderr: result.stderr };
}

describe("the registry binary serving TLS from the rendered config and certificates", () => {
  let tls: ServerTls;
  let objects: KubeObject[];
  let registry: RegistryProcess;
  let work: string;
  let caFile: string;
  let port: string;
  const at = (name: string) => ["--resolve", `${name}:${port}:127.0.0.1`, `https://${name}:${port}/v2/`];

  beforeAll(async () => {
    const { config } = resolveConfig({
      set: ["storage.efs.fileSystemId=fs-0123456789abcdef0", `tls.hostname=${HOSTNAME}`],
    });
    tls = (await prepareServerTls(config, {}, LOAD_BALANCER, new Date())).tls;
    objects = await renderManifests(
      config,
      {
        username: USER,
        password: PASSWORD,
        httpSecret: "a3f1c9e07b5d4e2a8c6f0b1d9e7a5c3f",
        htpasswd: `${USER}:${bcrypt.hashSync(PASSWORD, 4)}`,
      },
      tls,
    );
    work = await mkdtemp(join(tmpdir(), "clouddrove-tls-"));
    caFile = join(work, "ca.crt");
    // What a client gets: the public copy of the CA in the ConfigMap.
    const configMap = objects.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name === "registry-clouddrove-ca",
    );
    await writeFile(
      caFile,
      (configMap as KubeObject & { data: Record<string, string> }).data["ca.crt"] as string,
    );
    registry = await startRegistry({ replica: replicaSpec(objects), rootDirectory: join(work, "data") });
    port = new URL(registry.baseUrl).port;
  });

  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("runs with the mounted certificate the config names", () => {
    const spec = replicaSpec(objects);
    expect(spec.configYml).toContain(
      "tls:\n    certificate: /etc/clouddrove/tls/tls.crt\n    key: /etc/clouddrove/tls/tls.key",
    );
    expect(spec.tls?.mountPath).toBe("/etc/clouddrove/tls");
    expect(spec.tls?.certificate).toBe(tls.server.certificate);
    expect(registry.baseUrl).toMatch(/^https:/);
  });

  it("answers 200 on /v2/ with the credentials to a client that trusts the CA, by either name", () => {
    for (const name of [HOSTNAME, LOAD_BALANCER]) {
      expect(curl(["--cacert", caFile, "-u", `${USER}:${PASSWORD}`, ...at(name)])).toMatchObject({
        code: 0,
        status: "200",
      });
      expect(curl(["--cacert", caFile, ...at(name)])).toMatchObject({ code: 0, status: "401" });
    }
  });

  it("answers the readiness and liveness probes' request with 200: no credentials, certificate not verified (as the kubelet probes)", () => {
    // biome-ignore lint/suspicious/noExplicitAny: reads into the rendered Deployment
    const deployment = objects.find((o) => o.kind === "Deployment") as any;
    const container = deployment.spec.template.spec.containers[0];
    for (const probe of [container.readinessProbe.httpGet, container.livenessProbe.httpGet]) {
      expect(probe.scheme).toBe("HTTPS");
      const url = `${probe.scheme.toLowerCase()}://127.0.0.1:${port}${probe.path}`;
      expect(curl(["--insecure", "-H", "User-Agent: kube-probe/1.33", url])).toMatchObject({
        code: 0,
        status: "200",
      });
    }
  });

  it("fails the TLS handshake for a client without the CA, and for a name the certificate lacks", () => {
    const untrusted = curl(["-u", `${USER}:${PASSWORD}`, ...at(HOSTNAME)]);
    expect(untrusted.code).toBe(60);
    expect(untrusted.stderr).toMatch(/unable to get local issuer certificate|self.signed|not trusted/i);
    const otherName = curl(["--cacert", caFile, ...at("other.example.com")]);
    expect(otherName.code).toBe(60);
    expect(otherName.stderr).toMatch(/no alternative certificate subject name matches|does not match/i);
  });

  it("refuses plain HTTP on the TLS port", () => {
    const result = spawnSync(
      "curl",
      ["-sS", "--max-time", "10", "-u", `${USER}:${PASSWORD}`, `http://127.0.0.1:${port}/v2/`],
      {
        encoding: "utf8",
      },
    );
    expect(result.stdout).toContain("Client sent an HTTP request to an HTTPS server");
    expect(curl([`http://127.0.0.1:${port}/v2/`]).status).toBe("400");
  });

  it("serves exactly the rendered certificate, whose names cover the load balancer and --hostname", async () => {
    const served = await new Promise<string>((resolve, reject) => {
      const socket = connect(
        { host: "127.0.0.1", port: Number(port), servername: HOSTNAME, ca: tls.ca.certificate },
        () => {
          resolve(socket.getPeerCertificate().fingerprint256);
          socket.end();
        },
      );
      socket.on("error", reject);
    });
    const facts = await readCertificate(tls.server.certificate);
    expect(served).toBe(facts?.fingerprint);
    expect(facts?.dns).toEqual([
      LOAD_BALANCER,
      HOSTNAME,
      "registry-clouddrove.clouddrove.svc",
      "registry-clouddrove.clouddrove.svc.cluster.local",
    ]);
  });
});
