/**
 * ACM (tls.mode acm): the certificate the load balancer is to serve, as DescribeCertificate reports it.
 * Its own module and client: only a deploy in that mode loads @aws-sdk/client-acm.
 */
import { ACMClient, DescribeCertificateCommand } from "@aws-sdk/client-acm";
import type { AcmCertificateFacts } from "../../core/tls/acm.js";
import { awsClientConfig } from "./config.js";
import { aws, isAwsError } from "./errors.js";
import { silenceSdkNodeVersionWarning } from "./node-warning.js";

export function acmClient(region: string, env: NodeJS.ProcessEnv): ACMClient {
  silenceSdkNodeVersionWarning();
  return new ACMClient(awsClientConfig("ACM", region, env));
}

/** The certificate's status, names and validity; undefined when ACM has no such certificate. */
export async function describeAcmCertificate(
  acm: ACMClient,
  arn: string,
): Promise<AcmCertificateFacts | undefined> {
  try {
    const { Certificate: c } = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    return {
      arn,
      status: c?.Status ?? "UNKNOWN",
      type: c?.Type,
      domainName: c?.DomainName ?? "",
      subjectAlternativeNames: c?.SubjectAlternativeNames ?? [],
      notBefore: c?.NotBefore,
      notAfter: c?.NotAfter,
    };
  } catch (error) {
    if (isAwsError(error, "ResourceNotFoundException")) return undefined;
    return aws(`describing ACM certificate ${arn}`, () => Promise.reject(error));
  }
}
