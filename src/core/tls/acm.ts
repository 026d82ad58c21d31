/**
 * tls.mode acm, decided without AWS: whether the certificate ACM describes can serve the registry's name
 * on the cluster's load balancer, and the DNS record that sends the name to the load balancer.
 */
import { isIP } from "node:net";
import { acmArnRegion } from "../validators.js";
import { nameMatches } from "./name-match.js";

/** What DescribeCertificate says of the certificate. */
export interface AcmCertificateFacts {
  arn: string;
  /** ISSUED, PENDING_VALIDATION, EXPIRED, REVOKED, FAILED, INACTIVE, VALIDATION_TIMED_OUT. */
  status: string;
  /** AMAZON_ISSUED, IMPORTED or PRIVATE. */
  type?: string;
  domainName: string;
  subjectAlternativeNames: string[];
  notBefore?: Date;
  notAfter?: Date;
}

/** Why the certificate cannot serve `hostname` on a load balancer in `region` (empty: it can). */
export function acmCertificateProblems(
  facts: AcmCertificateFacts | undefined,
  want: { arn: string; hostname: string; region: string },
  now: Date,
): string[] {
  const problems: string[] = [];
  const certificateRegion = acmArnRegion(want.arn);
  // A load balancer can use only a certificate of its own region (ACM certificates are regional).
  if (certificateRegion !== want.region) {
    problems.push(
      `the certificate is in ${certificateRegion}, the cluster in ${want.region}: the load balancer can use only a certificate of its own region`,
    );
    return problems;
  }
  if (!facts) return [`ACM has no certificate ${want.arn} in ${want.region}`];
  if (facts.status !== "ISSUED") {
    problems.push(
      facts.status === "PENDING_VALIDATION"
        ? "the certificate is PENDING_VALIDATION: create the DNS validation records ACM lists for it and wait until it is ISSUED"
        : `the certificate's status is ${facts.status}, not ISSUED`,
    );
  }
  const names = [...new Set([facts.domainName, ...facts.subjectAlternativeNames].filter((n) => n !== ""))];
  if (!names.some((pattern) => nameMatches(pattern, want.hostname))) {
    problems.push(
      `the certificate does not cover ${want.hostname} (it names ${names.join(", ") || "nothing"})`,
    );
  }
  if (facts.notAfter && facts.notAfter.getTime() <= now.getTime()) {
    problems.push(`the certificate expired on ${facts.notAfter.toISOString()}`);
  }
  return problems;
}

export interface DnsRecord {
  name: string;
  type: "CNAME" | "A";
  value: string;
  ttl: number;
}

/** tls.hostname -> the load balancer: a CNAME to its DNS name (an A record where it has only an address). */
export function loadBalancerRecord(hostname: string, loadBalancerHost: string): DnsRecord {
  return {
    name: hostname,
    type: isIP(loadBalancerHost) === 0 ? "CNAME" : "A",
    value: loadBalancerHost,
    ttl: 300,
  };
}

/** The record as a zone file line, for whoever manages the zone. */
export const recordText = (r: DnsRecord) =>
  `${r.name}. ${r.ttl} IN ${r.type} ${r.value}${r.type === "CNAME" ? "." : ""}`;
