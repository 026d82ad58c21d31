/**
 * Names, labels, ports and paths of the registry objects, for code that finds or talks to them (deploy,
 * status, upgrade, backup). They are the values written in templates/registry/; a unit test keeps the two
 * in step.
 */

const commonLabels = {
  "app.kubernetes.io/name": "registry",
  "app.kubernetes.io/instance": "clouddrove",
  "app.kubernetes.io/managed-by": "clouddrove",
} as const;

const selectorLabels = {
  "app.kubernetes.io/name": "registry",
  "app.kubernetes.io/instance": "clouddrove",
  "app.kubernetes.io/component": "registry",
} as const;

export const names = {
  namespaceDefault: "clouddrove",
  deployment: "registry-clouddrove",
  service: "registry-clouddrove",
  serviceAccount: "registry-clouddrove",
  podDisruptionBudget: "registry-clouddrove",
  configMap: "registry-clouddrove-config",
  htpasswdSecret: "registry-clouddrove-htpasswd",
  httpSecret: "registry-clouddrove-http-secret",
  pullSecret: "registry-clouddrove-pull",
  claim: "registry-clouddrove-data",
  /** The private CA: its key in the Secret (never printed), its certificate also in the ConfigMap. */
  caSecret: "registry-clouddrove-ca",
  caConfigMap: "registry-clouddrove-ca",
  /** The server certificate the registry serves (type kubernetes.io/tls). */
  tlsSecret: "registry-clouddrove-tls",
  /** The PersistentVolume is cluster-scoped, so its name carries the namespace. */
  volume: (namespace: string) => `registry-clouddrove-data-${namespace}`,
  networkPolicies: {
    defaultDeny: "clouddrove-default-deny",
    registryIngress: "registry-clouddrove-ingress",
    backupEgress: "registry-clouddrove-backup-egress",
  },
  container: "registry",
  /** The pod volume that holds the server certificate. */
  tlsVolume: "tls",
  initContainer: "prepare-data-dir",
  secretKeys: {
    htpasswd: "htpasswd",
    httpSecret: "http-secret",
    dockerConfig: ".dockerconfigjson",
    caCertificate: "ca.crt",
    caKey: "ca.key",
    tlsCertificate: "tls.crt",
    tlsKey: "tls.key",
  },
  configMapKeys: { registryConfig: "config.yml", garbageCollectFlags: "garbage-collect-flags" },
  /** On every object clouddrove applies. */
  commonLabels,
  /** The registry pods: Deployment selector, Service, PodDisruptionBudget, NetworkPolicy. */
  selectorLabels,
  /** `deploy` prunes objects with this label that a render no longer contains. */
  pruneLabelSelector: "app.kubernetes.io/managed-by=clouddrove",
  registryPodSelector:
    "app.kubernetes.io/name=registry,app.kubernetes.io/instance=clouddrove,app.kubernetes.io/component=registry",
  /** Pods with this label get DNS and HTTPS egress (the backup job). */
  backupPodLabels: { "app.kubernetes.io/component": "backup" },
  ports: { registry: 5000, debug: 5001 },
  dataPath: "/var/lib/clouddrove",
  configPath: "/etc/docker/registry/config.yml",
  htpasswdPath: "/etc/clouddrove/auth/htpasswd",
  /** Where the server certificate and key are mounted (http.tls.certificate and key). */
  tlsDirectory: "/etc/clouddrove/tls",
  /** The registry container's user; the init container makes the data directory theirs. */
  registryUser: { uid: 1000, gid: 1000 },
  annotations: {
    configChecksum: "clouddrove.io/config-sha256",
    /** sha256 of the served certificate: a renewed one rolls the pods (the registry reads it at start). */
    certificateChecksum: "clouddrove.io/certificate-sha256",
    backupMethod: "clouddrove.io/backup-method",
    backupNotes: "clouddrove.io/backup-notes",
    backupCopyCommand: "clouddrove.io/backup-copy-command",
  },
  /** The in-cluster address of the registry, as the pull Secret names it. */
  serviceHost: (namespace: string) => `registry-clouddrove.${namespace}.svc:5000`,
} as const;
