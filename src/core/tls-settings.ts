/**
 * The settings a TLS mode cannot do without, for deploy and for `init` (docs/tls.md). Beside the
 * validators, below config/: it reads the TLS settings by shape, so config/ can use it without a cycle.
 */
export function tlsRequiredSettings(config: { tls: { mode: string; certManagerIssuer?: string } }): string[] {
  const { tls } = config;
  // acm: the name, the certificate and the region the certificate must be in.
  if (tls.mode === "acm") return ["tls.hostname", "tls.certificateArn", "cluster.region"];
  // secret: a Secret of the user's, unless cert-manager issues one.
  if (tls.mode === "secret" && !tls.certManagerIssuer) return ["tls.secretName"];
  return [];
}
