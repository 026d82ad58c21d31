/**
 * tls.mode acm on the sandbox: its AWS endpoint stands in for ACM (RequestCertificate issues a
 * certificate at once; DescribeCertificate and GetCertificate report it) and its load balancer terminates
 * TLS with that certificate for the Service's annotations, forwarding plain TCP to the registry's pods.
 * deploy checks the certificate with DescribeCertificate, gives the DNS record to create, and the
 * registry answers /v2/ over TLS with the ACM certificate; a push's upload URL stays relative.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACMClient, GetCertificateCommand, RequestCertificateCommand } from "@aws-sdk/client-acm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsEnvironment } from "../../sandbox/src/index.js";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { awsClientConfig } from "../../src/adapters/aws/config.js";
import { cleanEnv, runCli } from "../support/run-cli.js";

const PASSWORD = "correct-horse-battery-staple";
const HOSTNAME = "registry.sandbox.test";
let sbx: TestSandbox;
let env: NodeJS.ProcessEnv;
let arn: string;
let work: string;
let caFile: string;

beforeAll(async () => {
  sbx = await startTestSandbox({ controllers: true, speed: 200 });
  env = cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD, ...awsEnvironment(sbx.sandbox.aws) });
  const acm = new ACMClient(awsClientConfig("ACM", sbx.sandbox.aws.region, env));
  arn = (await acm.send(new RequestCertificateCommand({ DomainName: HOSTNAME, ValidationMethod: "DNS" })))
    .CertificateArn as string;
  const { Certificate } = await acm.send(new GetCertificateCommand({ CertificateArn: arn }));
  work = await mkdtemp(join(tmpdir(), "clouddrove-acm-"));
  caFile = join(work, "acm.crt");
  await writeFile(caFile, Certificate as string);
}, 120_000);
afterAll(async () => {
  await sbx?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function deploy(extra: string[]) {
  const args = ["--kubeconfig", sbx.kubeconfigPath, "-o", "json", "deploy", "--yes"];
  return runCli(
    [...args, "--efs-file-system-id", "fs-0123456789abcdef0", "--region", sbx.sandbox.aws.region, ...extra],
    { env },
  );
}

/** curl in its own process, asynchronously: the sandbox's load balancer runs in this one. */
function curl(
  port: string,
  args: string[],
): Promise<{ code: number; status: string; body: string; stderr: string }> {
  const argv = [
    "-sS",
    "--max-time",
    "10",
    "--resolve",
    `${HOSTNAME}:${port}:127.0.0.1`,
    "-w",
    "\nSTATUS:%{http_code}",
    ...args,
  ];
  return new Promise((resolve) => {
    execFile("curl", argv, { encoding: "utf8" }, (error, stdout, stderr) => {
      const [body = "", status = ""] = stdout.split("\nSTATUS:");
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, status, body, stderr });
    });
  });
}

describe("tls.mode acm on the sandbox", () => {
  let port: string;

  it("refuses a certificate for another name with exit 2, before any write", async () => {
    const refused = await deploy([
      "--tls-mode",
      "acm",
      "--hostname",
      "other.sandbox.test",
      "--certificate-arn",
      arn,
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("the certificate does not cover other.sandbox.test");
    expect(sbx.sandbox.store.get("Deployment", "clouddrove", "registry-clouddrove")).toBeUndefined();
  });

  it("deploys behind the load balancer's TLS listener and gives the DNS record", async () => {
    const run = await deploy(["--tls-mode", "acm", "--hostname", HOSTNAME, "--certificate-arn", arn]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    port = String(report.registry.address).split(":")[1] as string;
    expect(report.usage.imageAddress).toBe(`${HOSTNAME}:5000`);
    expect(report.usage.dns[0]).toBe(
      `${HOSTNAME}. 300 IN A 127.0.0.1   # create this record in the zone of ${HOSTNAME}; the name works once it resolves`,
    );
    expect(report.steps.find((s: { title: string }) => s.title.startsWith("ACM certificate")).status).toBe(
      "succeeded",
    );
    const service = sbx.sandbox.store.get("Service", "clouddrove", "registry-clouddrove");
    expect(service?.metadata.annotations?.["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"]).toBe(
      arn,
    );
  });

  it("answers /v2/ over TLS with the ACM certificate, and only to a client that trusts it", async () => {
    const url = `https://${HOSTNAME}:${port}/v2/`;
    const trusted = await curl(port, [
      "-o",
      "/dev/null",
      "--cacert",
      caFile,
      "-u",
      `clouddrove:${PASSWORD}`,
      url,
    ]);
    expect(trusted.status, trusted.stderr).toBe("200");
    expect((await curl(port, ["-o", "/dev/null", "-u", `clouddrove:${PASSWORD}`, url])).code).toBe(60);
  });

  it("keeps an upload's URL relative, so the client stays on https://", async () => {
    const answer = await curl(port, [
      "-D",
      "-",
      "-o",
      "/dev/null",
      "-X",
      "POST",
      "--cacert",
      caFile,
      "-u",
      `clouddrove:${PASSWORD}`,
      `https://${HOSTNAME}:${port}/v2/team/app/blobs/uploads/`,
    ]);
    expect(answer.status).toBe("202");
    expect(/^location: (.*)$/im.exec(answer.body)?.[1]?.trim()).toMatch(/^\/v2\/team\/app\/blobs\/uploads\//);
  });

  it("status reports the ACM certificate", async () => {
    const status = await runCli(
      [
        "--kubeconfig",
        sbx.kubeconfigPath,
        "-o",
        "json",
        "status",
        "--tls-mode",
        "acm",
        "--hostname",
        HOSTNAME,
        "--certificate-arn",
        arn,
      ],
      { env },
    );
    const parsed = JSON.parse(status.stdout);
    expect(parsed.tls).toMatchObject({ mode: "acm", source: arn, warnings: [] });
  });
});
