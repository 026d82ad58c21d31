/**
 * tls.mode acm's AWS side against moto (scripts/components.sh moto), with the real SDK v3 clients:
 * DescribeCertificate of an imported certificate (moto reports it ISSUED at once) and of a requested one
 * (PENDING_VALIDATION: moto issues it only after MOTO_ACM_VALIDATION_WAIT, 60 s); deploy's ACM step
 * refusing, with exit 2, a certificate that cannot serve; and the Route 53 record written with UPSERT
 * (created, then replaced).
 */
import { ImportCertificateCommand, RequestCertificateCommand } from "@aws-sdk/client-acm";
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand } from "@aws-sdk/client-route-53";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acmClient, describeAcmCertificate } from "../../src/adapters/aws/acm.js";
import { route53Client, upsertRecord } from "../../src/adapters/aws/route53.js";
import { resolveConfig } from "../../src/config/resolve.js";
import { acmCertificateProblems, loadBalancerRecord } from "../../src/core/tls/acm.js";
import { createCertificateAuthority, issueServerCertificate } from "../../src/core/tls/certificates.js";
import { ExitCode, UsageError } from "../../src/errors.js";
import { acmCertificateStep, dnsRecordStep } from "../../src/steps/deploy/acm.js";
import type { DeployContext } from "../../src/steps/deploy/context.js";
import { MOTO_ACCOUNT, type MotoServer, startMoto } from "../support/moto.js";

const REGION = "eu-west-1";
const HOSTNAME = "registry.example.com";
const LOAD_BALANCER = "k8s-clouddrov-registry-0123456789.elb.eu-west-1.amazonaws.com";
let moto: MotoServer;
let env: NodeJS.ProcessEnv;
let imported: string;
let requested: string;

beforeAll(async () => {
  moto = await startMoto(REGION);
  env = {
    PATH: process.env.PATH,
    ...moto.env,
    AWS_ENDPOINT_URL_ACM: moto.endpoint,
    AWS_ENDPOINT_URL_ROUTE_53: moto.endpoint,
  };
  const acm = acmClient(REGION, env);
  const now = new Date();
  const issuer = await createCertificateAuthority("Example Corp CA", now);
  const server = await issueServerCertificate(issuer, { dns: ["*.example.com"], ips: [] }, now, 90);
  const answer = await acm.send(
    new ImportCertificateCommand({
      Certificate: Buffer.from(server.certificate),
      PrivateKey: Buffer.from(server.key),
      CertificateChain: Buffer.from(issuer.certificate),
    }),
  );
  imported = answer.CertificateArn as string;
  const asked = await acm.send(
    new RequestCertificateCommand({ DomainName: HOSTNAME, ValidationMethod: "DNS" }),
  );
  requested = asked.CertificateArn as string;
});

afterAll(async () => {
  await moto?.stop();
});

/** deploy's context as far as the ACM steps read it. */
function deployContext(...set: string[]): DeployContext {
  const { config } = resolveConfig({
    set: [
      "storage.efs.fileSystemId=fs-0123456789abcdef0",
      "tls.mode=acm",
      `tls.hostname=${HOSTNAME}`,
      `cluster.region=${REGION}`,
      ...set,
    ],
  });
  return { config, env, address: `${LOAD_BALANCER}:5000` } as DeployContext;
}

const task = () => ({ title: "", output: "" });

describe("ACM DescribeCertificate on moto", () => {
  it("an imported certificate is ISSUED, with its names, in the region of its ARN", async () => {
    expect(imported).toMatch(new RegExp(`^arn:aws:acm:${REGION}:${MOTO_ACCOUNT}:certificate/[0-9a-f-]{36}$`));
    const facts = await describeAcmCertificate(acmClient(REGION, env), imported);
    expect(facts).toMatchObject({ status: "ISSUED", type: "IMPORTED", domainName: "*.example.com" });
    expect(facts?.subjectAlternativeNames).toContain("*.example.com");
    expect(
      acmCertificateProblems(facts, { arn: imported, hostname: HOSTNAME, region: REGION }, new Date()),
    ).toEqual([]);
  });

  it("a requested certificate is PENDING_VALIDATION until its DNS validation is done", async () => {
    const facts = await describeAcmCertificate(acmClient(REGION, env), requested);
    expect(facts).toMatchObject({
      status: "PENDING_VALIDATION",
      type: "AMAZON_ISSUED",
      domainName: HOSTNAME,
    });
  });

  it("an ARN ACM does not know is no certificate", async () => {
    const unknown = imported.replace(/certificate\/.*/, "certificate/00000000-0000-0000-0000-000000000000");
    expect(await describeAcmCertificate(acmClient(REGION, env), unknown)).toBeUndefined();
  });
});

describe("deploy's ACM step", () => {
  it("passes an ISSUED certificate covering the host name, and says so", async () => {
    const t = task();
    await acmCertificateStep().task(deployContext(`tls.certificateArn=${imported}`), t as never);
    expect(t.title).toContain("ISSUED for *.example.com");
  });

  it("refuses with exit 2, naming the reason, a pending certificate or one for another name", async () => {
    const refusal = async (...set: string[]) => {
      try {
        await acmCertificateStep().task(deployContext(...set), task() as never);
      } catch (error) {
        return error as UsageError;
      }
      throw new Error("expected a refusal");
    };
    const pending = await refusal(`tls.certificateArn=${requested}`);
    expect(pending).toBeInstanceOf(UsageError);
    expect(pending.exitCode).toBe(ExitCode.usage);
    expect(pending.details.join("\n")).toContain("PENDING_VALIDATION");
    const otherName = await refusal(`tls.certificateArn=${imported}`, "tls.hostname=registry.other.org");
    expect(otherName.details).toEqual([
      "the certificate does not cover registry.other.org (it names *.example.com)",
    ]);
  });
});

describe("the DNS record in Route 53", () => {
  it("is created, then replaced, by UPSERT", async () => {
    const route53 = route53Client(env);
    const zone = await route53.send(
      new CreateHostedZoneCommand({ Name: "example.com", CallerReference: `clouddrove-${Date.now()}` }),
    );
    const zoneId = String(zone.HostedZone?.Id).replace("/hostedzone/", "");
    const t = task();
    const ctx = deployContext(`tls.certificateArn=${imported}`, `tls.hostedZoneId=${zoneId}`);
    await dnsRecordStep().task(ctx, t as never);
    expect(ctx.dnsRecord).toMatchObject({ created: true, zone: zoneId });
    const records = async () =>
      (
        await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))
      ).ResourceRecordSets?.filter((r) => r.Type === "CNAME");
    expect(await records()).toEqual([
      expect.objectContaining({
        Name: `${HOSTNAME}.`,
        TTL: 300,
        ResourceRecords: [{ Value: LOAD_BALANCER }],
      }),
    ]);
    await upsertRecord(
      route53,
      zoneId,
      loadBalancerRecord(HOSTNAME, "another-lb.elb.eu-west-1.amazonaws.com"),
    );
    expect((await records())?.map((r) => r.ResourceRecords)).toEqual([
      [{ Value: "another-lb.elb.eu-west-1.amazonaws.com" }],
    ]);
  });

  it("without a zone, is only given to create by hand", async () => {
    const ctx = deployContext(`tls.certificateArn=${imported}`);
    const t = task();
    await dnsRecordStep().task(ctx, t as never);
    expect(ctx.dnsRecord).toMatchObject({ created: false });
    expect(t.title).toBe(`DNS record to create: ${HOSTNAME}. 300 IN CNAME ${LOAD_BALANCER}.`);
  });
});
