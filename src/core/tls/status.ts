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
  /** "private-ca" when the pods serve TLS, "insecure-http" when plain HTTP, null without a Deployment. */
  mode: "private-ca" | "insecure-http" | null;
  certificate: { names: string[]; notAfter: string; daysLeft: number } | null;
  warnings: string[];
}

/** The scheme the registry container's liveness probe uses: deploy sets it to what the registry serves. */
export function servedScheme(deployment: V1Deployment | undefined): "HTTPS" | "HTTP" | undefined {
  const containers = deployment?.spec?.template?.spec?.containers ?? [];
  const container = containers.find((c) => c.name === names.container);
  if (!container) return undefined;
  return container.livenessProbe?.httpGet?.scheme === "HTTPS" ? "HTTPS" : "HTTP";
}

export function tlsStatus(
  deployment: V1Deployment | undefined,
  certificate: CertificateFacts | undefined,
  now: Date,
): TlsStatus {
  const scheme = servedScheme(deployment);
  if (scheme === undefined) return { mode: null, certificate: null, warnings: [] };
  if (scheme === "HTTP") return { mode: "insecure-http", certificate: null, warnings: [insecureHttpWarning] };
  if (!certificate) {
    return {
      mode: "private-ca",
      certificate: null,
      warnings: [`the registry serves TLS but Secret ${names.tlsSecret} holds no readable certificate`],
    };
  }
  const warning = expiryWarning(certificate.notAfter, now);
  return {
    mode: "private-ca",
    certificate: {
      names: [...certificate.dns, ...certificate.ips],
      notAfter: certificate.notAfter.toISOString(),
      daysLeft: Math.floor((certificate.notAfter.getTime() - now.getTime()) / 86_400_000),
    },
    warnings: warning ? [warning] : [],
  };
}

export function tlsStatusText(tls: TlsStatus, usage: RegistryUsage): string[] {
  const c = tls.certificate;
  const line =
    tls.mode === "insecure-http"
      ? "TLS:              none (plain HTTP, --insecure-http)"
      : c
        ? `TLS:              private CA; certificate for ${c.names.join(", ")}, valid until ${c.notAfter.slice(0, 10)} (${c.daysLeft} day(s) left)`
        : `TLS:              ${tls.mode ?? "unknown (no Deployment)"}`;
  return [line, ...tls.warnings.map((w) => `  warning: ${w}`), "", ...registryUsageText(usage)];
}
