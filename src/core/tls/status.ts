/**
 * What `status` says about the registry's TLS, from the live Deployment and server certificate: whether
 * it serves TLS, the certificate's names and expiry, and the warnings (plain HTTP; expiry within 30 days).
 */
import type { V1Deployment } from "@kubernetes/client-node";
import { names } from "../render/names.js";
import type { CertificateFacts } from "./certificates.js";
import { expiryWarning, insecureHttpWarning } from "./plan.js";
import { type RegistryUsage, registryUsageText } from "./usage.js";

export interface TlsStatus {
  /**
   * What the live objects serve: "private-ca" or "secret" when the pods serve TLS (from clouddrove's
   * Secret, or another), "acm" when the load balancer terminates it, "insecure-http" when nothing does;
   * null without a Deployment.
   */
  mode: "private-ca" | "secret" | "acm" | "insecure-http" | null;
  certificate: { names: string[]; notAfter: string; daysLeft: number } | null;
  /** secret: the Secret served; acm: the ACM certificate's ARN. */
  source?: string;
  /** secret: the Secret's issuer is private and published in ConfigMap registry-clouddrove-ca. */
  privateCa?: boolean;
  warnings: string[];
}

/** What status read besides the Deployment: the served Secret's certificate, the Service's ACM annotation. */
export interface TlsLive {
  certificate?: CertificateFacts;
  /** The Secret the pods mount (names.tlsSecret with private-ca). */
  secretName?: string;
  /** The served Secret's tls.crt changed since the pods started (its digest is not the pod template's). */
  certificateChanged?: boolean;
  /** The Service's aws-load-balancer-ssl-cert annotation. */
  acmCertificateArn?: string;
}

/** The scheme the registry container's liveness probe uses: deploy sets it to what the registry serves. */
export function servedScheme(deployment: V1Deployment | undefined): "HTTPS" | "HTTP" | undefined {
  const containers = deployment?.spec?.template?.spec?.containers ?? [];
  const container = containers.find((c) => c.name === names.container);
  if (!container) return undefined;
  return container.livenessProbe?.httpGet?.scheme === "HTTPS" ? "HTTPS" : "HTTP";
}

export function tlsStatus(deployment: V1Deployment | undefined, live: TlsLive, now: Date): TlsStatus {
  const scheme = servedScheme(deployment);
  if (scheme === undefined) return { mode: null, certificate: null, warnings: [] };
  if (scheme === "HTTP") {
    return live.acmCertificateArn
      ? { mode: "acm", certificate: null, source: live.acmCertificateArn, warnings: [] }
      : { mode: "insecure-http", certificate: null, warnings: [insecureHttpWarning] };
  }
  const secretName = live.secretName ?? names.tlsSecret;
  const mode = secretName === names.tlsSecret ? "private-ca" : "secret";
  const source = mode === "secret" ? { source: secretName } : {};
  const { certificate } = live;
  if (!certificate) {
    return {
      mode,
      certificate: null,
      ...source,
      warnings: [`the registry serves TLS but Secret ${secretName} holds no readable certificate`],
    };
  }
  const warnings: string[] = [];
  const expiry = expiryWarning(certificate.notAfter, now);
  // cert-manager renews the Secret's certificate by itself; the registry reads it at start only.
  if (expiry)
    warnings.push(
      mode === "secret"
        ? expiry.replace(
            "run `clouddrove deploy` to renew it",
            `renew the certificate in Secret ${secretName}, then run \`clouddrove deploy\``,
          )
        : expiry,
    );
  if (mode === "secret" && live.certificateChanged) {
    warnings.push(
      `the certificate in Secret ${secretName} changed since the replicas started (renewed?): run \`clouddrove deploy\` to roll them one at a time`,
    );
  }
  return {
    mode,
    certificate: {
      names: [...certificate.dns, ...certificate.ips],
      notAfter: certificate.notAfter.toISOString(),
      daysLeft: Math.floor((certificate.notAfter.getTime() - now.getTime()) / 86_400_000),
    },
    ...source,
    warnings,
  };
}

export function tlsStatusText(tls: TlsStatus, usage: RegistryUsage): string[] {
  const c = tls.certificate;
  const from = tls.mode === "secret" ? `Secret ${tls.source}` : "private CA";
  const line =
    tls.mode === "insecure-http"
      ? "TLS:              none (plain HTTP, --insecure-http)"
      : tls.mode === "acm"
        ? `TLS:              terminated by the load balancer with ACM certificate ${tls.source}`
        : c
          ? `TLS:              ${from}; certificate for ${c.names.join(", ")}, valid until ${c.notAfter.slice(0, 10)} (${c.daysLeft} day(s) left)`
          : `TLS:              ${tls.mode ?? "unknown (no Deployment)"}`;
  return [line, ...tls.warnings.map((w) => `  warning: ${w}`), "", ...registryUsageText(usage)];
}
