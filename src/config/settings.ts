/**
 * Every setting clouddrove has, in one table: its config-file key, flag, environment variable, default,
 * check and (where it has no safe default) the question `init` asks. The table is the schema: the file
 * loader rejects keys that are not here, and `config show` lists exactly these rows.
 */
import * as check from "../core/validators.js";

export type SettingKind = "string" | "integer" | "list" | "enum";
export type SettingValue = string | number | string[];

export interface Setting {
  /** Dotted path in clouddrove.yaml, e.g. "storage.efs.fileSystemId". */
  key: string;
  kind: SettingKind;
  /** Long flag without the dashes, e.g. "efs-file-system-id". */
  flag: string;
  description: string;
  default?: SettingValue;
  /** Enum members (kind "enum"). */
  choices?: readonly string[];
  /**
   * Members that parse (so the refusal can explain itself, see schema.ts) but are never offered at a
   * prompt, since choosing one would only end the run.
   */
  refusedChoices?: readonly string[];
  /** For strings and each list item. */
  check?: check.Check;
  min?: number;
  max?: number;
  /** `init` asks this setting (it has no default that is safe for everybody). */
  ask?: string;
  /** A boolean flag that stands for one value of this setting, e.g. --insecure-http. */
  shortcut?: { flag: string; value: string; description: string };
}

const S = (s: Setting) => s;

export const SETTINGS: readonly Setting[] = [
  S({
    key: "namespace",
    kind: "string",
    flag: "namespace",
    description: "namespace of every registry object",
    default: "clouddrove",
    check: check.dnsLabel,
  }),

  S({
    key: "cluster.name",
    kind: "string",
    flag: "cluster-name",
    description: "EKS cluster name",
    default: "clouddrove",
    check: check.clusterName,
    ask: "EKS cluster name",
  }),
  S({
    key: "cluster.region",
    kind: "string",
    flag: "region",
    description: "AWS region of the cluster",
    check: check.awsRegion,
    ask: "AWS region (e.g. eu-west-1)",
  }),
  S({
    key: "cluster.zones",
    kind: "list",
    flag: "zones",
    description: "three availability zones, comma-separated (default: the first three the region offers)",
    default: [],
    check: check.availabilityZone,
  }),
  S({
    key: "cluster.kubernetesVersion",
    kind: "string",
    flag: "kubernetes-version",
    description:
      "Kubernetes minor version of a new cluster (default: the version EKS gives new clusters, asked of EKS)",
    check: check.kubernetesMinor,
  }),
  S({
    key: "cluster.instanceType",
    kind: "string",
    flag: "instance-type",
    description: "EC2 instance type of the three workers",
    default: "m6i.large",
    check: check.instanceType,
  }),

  S({
    key: "registry.image",
    kind: "string",
    flag: "registry-image",
    description: "registry image repository",
    default: "registry",
    check: check.imageRepository,
  }),
  S({
    key: "registry.version",
    kind: "string",
    flag: "registry-version",
    description: "registry image tag",
    default: "2.8.2",
    check: check.imageTag,
  }),
  S({
    key: "registry.replicas",
    kind: "integer",
    flag: "replicas",
    description: "registry replicas, one per node and zone",
    default: 3,
    min: 1,
    max: 50,
  }),
  S({
    key: "registry.username",
    kind: "string",
    flag: "registry-username",
    description: "user name for docker login",
    default: "clouddrove",
    check: check.registryUsername,
  }),
  S({
    key: "registry.cpuRequest",
    kind: "string",
    flag: "cpu-request",
    description: "registry container CPU request",
    default: "250m",
    check: check.quantity,
  }),
  S({
    key: "registry.memoryRequest",
    kind: "string",
    flag: "memory-request",
    description: "registry container memory request",
    default: "1Gi",
    check: check.quantity,
  }),
  S({
    key: "registry.memoryLimit",
    kind: "string",
    flag: "memory-limit",
    description: "registry container memory limit",
    default: "2Gi",
    check: check.quantity,
  }),
  S({
    key: "registry.initImage",
    kind: "string",
    flag: "init-image",
    description: "pinned Alpine image of the initContainer",
    default: "alpine:3.24.2@sha256:3cf95fe0816180395592b8373f3ec60663f076127617bbacb4eacf9667afe2e9",
    check: check.imageReference,
  }),

  S({
    key: "storage.type",
    kind: "enum",
    flag: "storage-type",
    description: "shared ReadWriteMany storage behind the volume",
    default: "efs",
    choices: ["efs", "nfs", "ebs"],
    refusedChoices: ["ebs"],
  }),
  S({
    key: "storage.size",
    kind: "string",
    flag: "storage-size",
    description: "size of the PersistentVolume and claim",
    default: "50Gi",
    check: check.quantity,
  }),
  S({
    key: "storage.efs.fileSystemId",
    kind: "string",
    flag: "efs-file-system-id",
    description: "EFS file system id (storage.type efs; `cluster create` records it)",
    check: check.efsFileSystemId,
    ask: "EFS file system id (fs-...)",
  }),
  S({
    key: "storage.nfs.server",
    kind: "string",
    flag: "nfs-server",
    description: "NFS server (storage.type nfs)",
    check: check.hostname,
    ask: "NFS server host name or address",
  }),
  S({
    key: "storage.nfs.path",
    kind: "string",
    flag: "nfs-path",
    description: "exported path on the NFS server",
    default: "/",
    check: check.absolutePath,
  }),

  S({
    key: "network.allowedCidrs",
    kind: "list",
    flag: "allowed-cidrs",
    description: "CIDRs admitted through the load balancer and the NetworkPolicy, comma-separated",
    default: [],
    check: check.cidr,
  }),
  S({
    key: "network.loadBalancer",
    kind: "enum",
    flag: "load-balancer",
    description: "AWS load balancer kind (nlb avoids the classic ELB's idle timeout on large pushes)",
    default: "nlb",
    choices: ["nlb", "clb"],
  }),
  S({
    key: "network.scheme",
    kind: "enum",
    flag: "load-balancer-scheme",
    description: "internal (VPC only) or internet-facing load balancer",
    default: "internal",
    choices: ["internal", "internet-facing"],
  }),

  S({
    key: "tls.mode",
    kind: "enum",
    flag: "tls-mode",
    description:
      "how clients reach the registry: private-ca (TLS from a CA clouddrove keeps in the cluster), secret (TLS from a kubernetes.io/tls Secret: yours or cert-manager's), acm (the NLB terminates TLS with an ACM certificate) or insecure-http (plain HTTP; --insecure-http)",
    default: "private-ca",
    choices: ["private-ca", "secret", "acm", "insecure-http"],
    shortcut: {
      flag: "insecure-http",
      value: "insecure-http",
      description: "serve plain HTTP (every client must list the registry as insecure)",
    },
    ask: "TLS: private-ca (clouddrove's own CA; clients trust it with `clouddrove trust`), secret (your kubernetes.io/tls Secret or cert-manager), acm (an ACM certificate on the NLB) or insecure-http",
  }),
  S({
    key: "tls.hostname",
    kind: "string",
    flag: "hostname",
    description:
      "a DNS name clients use for the registry, added to the server certificate (e.g. registry.example.com)",
    check: check.dnsName,
    ask: "DNS name clients will use for the registry",
  }),
  S({
    key: "tls.secretName",
    kind: "string",
    flag: "tls-secret",
    description:
      "tls.mode secret: the kubernetes.io/tls Secret in the registry's namespace the registry serves (or set tls.certManagerIssuer)",
    check: check.kubernetesName,
    ask: "Name of your kubernetes.io/tls Secret in the registry's namespace",
  }),
  S({
    key: "tls.certManagerIssuer",
    kind: "string",
    flag: "cert-manager-issuer",
    description:
      "tls.mode secret: the cert-manager issuer of the registry's certificate, NAME or NAME,kind=ClusterIssuer (clouddrove renders the Certificate)",
    check: check.certManagerIssuer,
    ask: "cert-manager issuer: NAME (an Issuer in the registry's namespace) or NAME,kind=ClusterIssuer",
  }),
  S({
    key: "tls.certificateArn",
    kind: "string",
    flag: "certificate-arn",
    description:
      "tls.mode acm: the ACM certificate the load balancer serves (arn:aws:acm:REGION:ACCOUNT:certificate/ID)",
    check: check.acmCertificateArn,
    ask: "ACM certificate ARN (arn:aws:acm:...)",
  }),
  S({
    key: "tls.hostedZoneId",
    kind: "string",
    flag: "hosted-zone-id",
    description:
      "tls.mode acm: the Route 53 hosted zone in which deploy creates the CNAME tls.hostname -> load balancer (without it deploy prints the record)",
    check: check.hostedZoneId,
    ask: "Route 53 hosted zone id for the CNAME record",
  }),
  S({
    key: "tls.certificateDays",
    kind: "integer",
    flag: "tls-certificate-days",
    description:
      "days a server certificate issued by the private CA is valid (deploy renews it ahead of expiry)",
    default: 365,
    min: 1,
    max: 825,
  }),

  S({
    key: "backup.bucket",
    kind: "string",
    flag: "backup-bucket",
    description: "S3 bucket for archives (backups are off without it)",
    check: check.s3Bucket,
  }),
  S({
    key: "backup.prefix",
    kind: "string",
    flag: "backup-prefix",
    description: "key prefix of archives in the bucket",
    default: "clouddrove/",
    check: check.s3Prefix,
  }),
  S({
    key: "backup.region",
    kind: "string",
    flag: "backup-region",
    description: "region of the bucket (default: the cluster's)",
    check: check.awsRegion,
  }),
  S({
    key: "backup.endpoint",
    kind: "string",
    flag: "backup-endpoint",
    description: "S3-compatible endpoint URL instead of AWS S3 (e.g. MinIO); path-style addressing",
    check: (v) =>
      /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(v)
        ? undefined
        : "an http(s) URL such as https://minio.example.com:9000",
  }),
  S({
    key: "backup.schedule",
    kind: "string",
    flag: "backup-schedule",
    description: "cron schedule of the backup CronJob",
    default: "0 3 * * *",
    check: check.cronSchedule,
  }),
  S({
    key: "backup.timeZone",
    kind: "string",
    flag: "backup-time-zone",
    description: "time zone of the schedule",
    default: "Etc/UTC",
    check: check.timeZone,
  }),
  S({
    key: "backup.credentials",
    kind: "enum",
    flag: "backup-credentials",
    description: "how the backup job reaches S3: irsa, pod-identity or secret",
    default: "irsa",
    choices: ["irsa", "pod-identity", "secret"],
  }),
  S({
    key: "backup.roleArn",
    kind: "string",
    flag: "backup-role-arn",
    description: "IAM role for IRSA (backup.credentials irsa)",
    check: check.iamRoleArn,
  }),
  S({
    key: "backup.secretName",
    kind: "string",
    flag: "backup-secret-name",
    description: "Secret with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (backup.credentials secret)",
    default: "clouddrove-backup-aws",
    check: check.dnsLabel,
  }),
  S({
    key: "backup.retentionDays",
    kind: "integer",
    flag: "retention-days",
    description: "days a snapshot is kept (each backup run prunes older ones beyond --keep-last)",
    default: 30,
    min: 1,
    max: 3650,
  }),
  S({
    key: "backup.keepLast",
    kind: "integer",
    flag: "keep-last",
    description: "the newest N snapshots are always kept, however old",
    default: 7,
    min: 1,
    max: 10000,
  }),
  S({
    key: "backup.setup",
    kind: "enum",
    flag: "backup-setup",
    description:
      "create: `cluster create` makes the backup bucket (backup.bucket, or a name from the account, region and cluster) and the IRSA role, and records both; manual: you give the bucket and its access yourself (or leave backups off)",
    default: "create",
    choices: ["create", "manual"],
    ask: "Backups: create (cluster create makes an encrypted, private S3 bucket and the IAM role the backup job assumes) or manual (you name a bucket and its credentials, or leave backups off)",
  }),

  S({
    key: "trust.rootDir",
    kind: "string",
    flag: "trust-root-dir",
    description:
      "directory `clouddrove trust` and `clouddrove login` write the container tools' certs.d files under (another root than / for an image build or a test)",
    default: "/",
    check: check.absolutePath,
  }),

  S({
    key: "timeouts.deploy",
    kind: "string",
    flag: "timeout",
    description: "deadline for a deploy's waits",
    default: "10m",
    check: check.duration,
  }),
  S({
    key: "timeouts.drain",
    kind: "string",
    flag: "drain-timeout",
    description: "deadline for draining one node",
    default: "10m",
    check: check.duration,
  }),
  S({
    key: "timeouts.lock",
    kind: "string",
    flag: "wait-for-lock",
    description:
      "how long a command that changes the registry waits while another run holds its lock (0s: refuse at once)",
    default: "0s",
    check: check.duration,
  }),
  S({
    key: "timeouts.eksctl",
    kind: "string",
    flag: "eksctl-timeout",
    description: "deadline for one eksctl run",
    default: "45m",
    check: check.duration,
  }),
];

export const SETTINGS_BY_KEY: ReadonlyMap<string, Setting> = new Map(SETTINGS.map((s) => [s.key, s]));

/** CLOUDDROVE_ + the key in upper snake case: storage.efs.fileSystemId -> CLOUDDROVE_STORAGE_EFS_FILE_SYSTEM_ID. */
export function envVarName(key: string): string {
  return `CLOUDDROVE_${key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/\./g, "_")
    .toUpperCase()}`;
}

/** The flag and environment variable that supply a setting, for error messages. */
export function howToSet(setting: Setting): string {
  return `--${setting.flag} or ${envVarName(setting.key)} (file key ${setting.key})`;
}

/** Secrets never come from flags or files: only the environment, stdin, a prompt, or the cluster. */
export const REGISTRY_PASSWORD_ENV = "CLOUDDROVE_REGISTRY_PASSWORD";
