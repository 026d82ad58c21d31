/**
 * ACM (JSON 1.1, X-Amz-Target CertificateManager.*), standing in for AWS Certificate Manager so that
 * clouddrove's tls.mode acm runs against the sandbox: RequestCertificate issues at once (status ISSUED, a
 * self-signed certificate for the names asked), DescribeCertificate and GetCertificate report it, and the
 * sandbox's load balancer terminates TLS with it for a Service that names its ARN
 * (service.beta.kubernetes.io/aws-load-balancer-ssl-cert). A real ACM certificate is publicly trusted;
 * this one is trusted by whoever takes it from GetCertificate.
 */
import { randomUUID, X509Certificate } from "node:crypto";
import type { ServerResponse } from "node:http";
import { createSelfSignedCertificate } from "../api/certificate.js";
import type { AwsContext } from "./context.js";
import { AwsServiceError, epochSeconds, sendJsonResult } from "./protocol.js";
import { type AcmCertificateRecord, SANDBOX_ACCOUNT } from "./state.js";

function find(ctx: AwsContext, input: Record<string, unknown>): AcmCertificateRecord {
  const arn = String(input.CertificateArn ?? "");
  const found = ctx.state.acmCertificates?.find((c) => c.arn === arn);
  if (!found) {
    throw new AwsServiceError(
      "ResourceNotFoundException",
      `Could not find certificate ${arn} in account ${SANDBOX_ACCOUNT}.`,
      400,
    );
  }
  return found;
}

function describe(record: AcmCertificateRecord) {
  const x509 = new X509Certificate(record.certificate);
  return {
    CertificateArn: record.arn,
    DomainName: record.domainName,
    SubjectAlternativeNames: record.subjectAlternativeNames,
    Status: "ISSUED",
    Type: "AMAZON_ISSUED",
    CreatedAt: epochSeconds(record.createdAt),
    IssuedAt: epochSeconds(record.createdAt),
    NotBefore: epochSeconds(new Date(x509.validFrom).getTime()),
    NotAfter: epochSeconds(new Date(x509.validTo).getTime()),
    KeyAlgorithm: "EC_prime256v1",
    Serial: x509.serialNumber,
    InUseBy: [],
  };
}

export function handleAcm(
  ctx: AwsContext,
  target: string,
  input: Record<string, unknown>,
  response: ServerResponse,
): void {
  const action = target.replace(/^CertificateManager\./, "");
  if (action === "RequestCertificate") {
    const domainName = String(input.DomainName ?? "");
    if (!/^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(domainName)) {
      throw new AwsServiceError("ValidationException", `DomainName ${domainName} is not a domain name.`, 400);
    }
    const extra = Array.isArray(input.SubjectAlternativeNames)
      ? input.SubjectAlternativeNames.map(String)
      : [];
    const names = [...new Set([domainName, ...extra])];
    const material = createSelfSignedCertificate(domainName, names);
    const record: AcmCertificateRecord = {
      arn: `arn:aws:acm:${ctx.cluster().region}:${SANDBOX_ACCOUNT}:certificate/${randomUUID()}`,
      domainName,
      subjectAlternativeNames: names,
      certificate: material.cert,
      key: material.key,
      createdAt: ctx.clock.now(),
    };
    ctx.state.acmCertificates = [...(ctx.state.acmCertificates ?? []), record];
    sendJsonResult(response, 200, { CertificateArn: record.arn });
    return;
  }
  if (action === "DescribeCertificate") {
    sendJsonResult(response, 200, { Certificate: describe(find(ctx, input)) });
    return;
  }
  if (action === "GetCertificate") {
    const record = find(ctx, input);
    sendJsonResult(response, 200, { Certificate: record.certificate, CertificateChain: record.certificate });
    return;
  }
  throw new AwsServiceError("InvalidAction", `The sandbox's ACM does not answer ${action}.`, 400);
}
