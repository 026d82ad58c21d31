/**
 * Names of the objects that carry the registry's private CA (created by deploy in the private-ca TLS mode)
 * and of the node-trust objects that make every node's containerd trust it.
 */
export const trustNames = {
  /** ConfigMap in the registry's namespace with the CA certificate (public), key `ca.crt`. */
  caConfigMap: "registry-clouddrove-ca",
  caKey: "ca.crt",
  /** The node-trust DaemonSet's own namespace: Pod Security "privileged" (hostPath), apart from the registry's. */
  nodeTrustNamespace: "clouddrove-node-trust",
  nodeTrust: "registry-clouddrove-node-trust",
  /** Where containerd on EKS nodes reads registry host configurations (CRI `config_path`). */
  nodeCertsDir: "/etc/containerd/certs.d",
  annotations: { caChecksum: "clouddrove.io/ca-sha256" },
} as const;
