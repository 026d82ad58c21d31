/**
 * deploy with tls.mode acm (docs/tls.md): before anything is applied, the ACM certificate must be ISSUED,
 * cover tls.hostname and be in the cluster's region (exit 2 otherwise, nothing changed); once the load
 * balancer has its address, the DNS record tls.hostname -> load balancer is created in Route 53 (with
 * tls.hostedZoneId) or given in the report to create by hand.
 */
import type { ListrTask } from "listr2";
import {
  type AcmCertificateFacts,
  acmCertificateProblems,
  loadBalancerRecord,
  recordText,
} from "../../core/tls/acm.js";
import { hostOf } from "../../core/tls/plan.js";
import { UsageError } from "../../errors.js";
import type { DeployContext } from "./context.js";

/** The certificate as ACM describes it, in the certificate's own region (its ARN names it). */
async function describe(
  arn: string,
  region: string,
  env: NodeJS.ProcessEnv,
): Promise<AcmCertificateFacts | undefined> {
  // Loaded only in this mode: the ACM client is not needed by any other deploy.
  const { acmClient, describeAcmCertificate } = await import("../../adapters/aws/acm.js");
  return describeAcmCertificate(acmClient(region, env), arn);
}

export function acmCertificateStep(): ListrTask<DeployContext> {
  return {
    title: "ACM certificate for the load balancer",
    skip: (ctx) => (ctx.config.tls.mode === "acm" ? false : `tls.mode ${ctx.config.tls.mode}`),
    task: async (ctx, task) => {
      const { tls, cluster } = ctx.config;
      const arn = tls.certificateArn as string;
      const want = { arn, hostname: tls.hostname as string, region: cluster.region as string };
      const facts =
        arn.split(":")[3] === want.region ? await describe(arn, want.region, ctx.env ?? {}) : undefined;
      const problems = acmCertificateProblems(facts, want, new Date());
      if (problems.length > 0) {
        throw new UsageError(
          `ACM certificate ${arn} cannot serve ${want.hostname} on the load balancer; nothing was changed.`,
          {
            details: problems,
            hint: `Request or import a certificate for ${want.hostname} in ${want.region} (\`aws acm request-certificate --domain-name ${want.hostname} --validation-method DNS --region ${want.region}\`) and give its ARN with --certificate-arn.`,
          },
        );
      }
      task.title =
        `ACM certificate ${facts?.type ?? ""} ISSUED for ${[facts?.domainName, ...(facts?.subjectAlternativeNames ?? [])].filter((n, i, all) => n && all.indexOf(n) === i).join(", ")}, valid until ${facts?.notAfter?.toISOString().slice(0, 10) ?? "?"}`.replace(
          "  ",
          " ",
        );
    },
  };
}

export function dnsRecordStep(): ListrTask<DeployContext> {
  return {
    title: "DNS record for the registry's name",
    skip: (ctx) => (ctx.config.tls.mode === "acm" ? false : `tls.mode ${ctx.config.tls.mode}`),
    task: async (ctx, task) => {
      const { hostname, hostedZoneId } = ctx.config.tls;
      const host = ctx.address ? hostOf(ctx.address) : undefined;
      if (!host || !hostname) return;
      const record = loadBalancerRecord(hostname, host);
      if (!hostedZoneId) {
        ctx.dnsRecord = { record, created: false };
        task.title = `DNS record to create: ${recordText(record)}`;
        return;
      }
      const { route53Client, upsertRecord } = await import("../../adapters/aws/route53.js");
      const changeId = await upsertRecord(route53Client(ctx.env ?? {}), hostedZoneId, record);
      ctx.dnsRecord = { record, created: true, zone: hostedZoneId, changeId };
      task.title = `DNS record in Route 53 zone ${hostedZoneId}: ${recordText(record)}`;
    },
  };
}
