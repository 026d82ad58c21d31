/** The fields clouddrove reads of a cert-manager Certificate (cert-manager.io/v1): whether it is Ready, and why not. */

export interface CertificateCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export interface CertManagerCertificate {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; generation?: number };
  spec?: { secretName?: string; dnsNames?: string[] };
  status?: { conditions?: CertificateCondition[]; notAfter?: string; renewalTime?: string };
}

const readyCondition = (certificate: CertManagerCertificate | undefined) =>
  certificate?.status?.conditions?.find((c) => c.type === "Ready");

/**
 * Ready=True: cert-manager has written a certificate matching the spec into the Secret. With `generation`,
 * only a condition observed at that generation counts (a spec just changed is not Ready by an old one).
 */
export function certificateReady(
  certificate: CertManagerCertificate | undefined,
  generation?: number,
): boolean {
  const ready = readyCondition(certificate);
  if (ready?.status !== "True") return false;
  return (
    generation === undefined ||
    ready.observedGeneration === undefined ||
    ready.observedGeneration >= generation
  );
}

/** Why a Certificate is not Ready, from its conditions (cert-manager explains it there). */
export function notReadyReason(certificate: CertManagerCertificate | undefined): string {
  const ready = readyCondition(certificate);
  if (!ready) return "cert-manager has not reported on it yet (no Ready condition: is cert-manager running?)";
  return `${ready.reason ?? "NotReady"}: ${ready.message ?? "no message"}`;
}
