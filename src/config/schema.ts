/**
 * The typed shape of a resolved configuration, built from the flat settings table, and the rules that
 * relate one setting to another (which the per-setting checks cannot see).
 */
import { tlsRequiredSettings } from "../core/tls-settings.js";
import { availabilityZone } from "../core/validators.js";
import { SETTINGS, type SettingValue } from "./settings.js";

/** How clients reach the registry (docs/tls.md). */
export type TlsMode = "private-ca" | "secret" | "acm" | "insecure-http";

export interface Config {
  namespace: string;
  cluster: {
    name: string;
    region?: string;
    zones: string[];
    /** Unset: EKS's default for new clusters, asked at `cluster create`. */
    kubernetesVersion?: string;
    instanceType: string;
  };
  registry: {
    image: string;
    version: string;
    replicas: number;
    username: string;
    cpuRequest: string;
    memoryRequest: string;
    memoryLimit: string;
    initImage: string;
  };
  storage: {
    type: "efs" | "nfs" | "ebs";
    size: string;
    efs: { fileSystemId?: string };
    nfs: { server?: string; path: string };
  };
  network: { allowedCidrs: string[]; loadBalancer: "nlb" | "clb"; scheme: "internal" | "internet-facing" };
  tls: {
    mode: TlsMode;
    /** A DNS name clients use, added to the server certificate. */
    hostname?: string;
    /** Validity of a server certificate the private CA issues. */
    certificateDays: number;
    /** tls.mode secret: the user's kubernetes.io/tls Secret. */
    secretName?: string;
    /** tls.mode secret: "NAME" or "NAME,kind=ClusterIssuer"; clouddrove renders a cert-manager Certificate. */
    certManagerIssuer?: string;
    /** tls.mode acm: the ACM certificate on the load balancer's TLS listener. */
    certificateArn?: string;
    /** tls.mode acm: the Route 53 zone for the CNAME record (printed instead without it). */
    hostedZoneId?: string;
  };
  backup: {
    bucket?: string;
    prefix: string;
    region?: string;
    /** An S3-compatible endpoint instead of AWS S3. */
    endpoint?: string;
    schedule: string;
    timeZone: string;
    credentials: "irsa" | "pod-identity" | "secret";
    roleArn?: string;
    secretName: string;
    retentionDays: number;
    keepLast: number;
    /** Whether `cluster create` makes the bucket and the backup role. */
    setup: "create" | "manual";
  };
  /** Where `clouddrove trust` installs the CA for this machine's container tools. */
  trust: { rootDir: string };
  timeouts: { deploy: string; drain: string; eksctl: string; lock: string };
}

/** Builds the nested object from flat dotted keys. */
export function toConfig(values: ReadonlyMap<string, SettingValue>): Config {
  const root: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const parts = setting.key.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    const value = values.get(setting.key);
    if (value !== undefined) node[parts.at(-1) as string] = value;
  }
  return root as unknown as Config;
}

/** Problems that involve more than one setting. Each line names the keys and the fix. */
export function crossSettingProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.storage.type === "ebs") {
    problems.push(
      "storage.type: 'ebs' cannot hold this registry: EBS volumes are ReadWriteOnce and bound to one zone, so " +
        "3 replicas on 3 nodes in 3 zones cannot share the claim (Multi-Attach error, volume node affinity " +
        "conflict). Use storage.type efs (default) or nfs, which are ReadWriteMany.",
    );
  }
  problems.push(...tlsModeProblems(config));
  const { region, zones } = config.cluster;
  if (zones.length > 0) {
    if (new Set(zones).size !== zones.length)
      problems.push(`cluster.zones: '${zones.join(",")}' names a zone twice`);
    if (zones.length < 3) {
      problems.push(
        `cluster.zones: '${zones.join(",")}' has ${zones.length} zone(s); a regional cluster needs at least 3, one per worker`,
      );
    }
    if (region) {
      for (const zone of zones) {
        if (availabilityZone(zone) === undefined && zone.slice(0, -1) !== region) {
          problems.push(
            `cluster.zones: '${zone}' is not in region ${region}; use zones such as ${region}a,${region}b,${region}c`,
          );
        }
      }
    }
  }
  return problems;
}

/** The TLS settings that contradict each other or the mode they belong to. */
function tlsModeProblems(config: Config): string[] {
  const { tls } = config;
  const problems: string[] = [];
  if (tls.secretName && tls.certManagerIssuer) {
    problems.push(
      `tls.secretName '${tls.secretName}' and tls.certManagerIssuer '${tls.certManagerIssuer}' contradict each other: ` +
        "give --tls-secret (your own Secret) or --cert-manager-issuer (cert-manager issues one), not both",
    );
  }
  if (tls.mode === "secret" && tls.certManagerIssuer && !tls.hostname) {
    problems.push(
      "tls.certManagerIssuer needs tls.hostname: the Certificate is issued for the name clients use " +
        "(an ACME issuer cannot validate the load balancer's name); give --hostname registry.example.com",
    );
  }
  const elsewhere: Array<[string, string | undefined, TlsMode]> = [
    ["tls.secretName", tls.secretName, "secret"],
    ["tls.certManagerIssuer", tls.certManagerIssuer, "secret"],
    ["tls.certificateArn", tls.certificateArn, "acm"],
    ["tls.hostedZoneId", tls.hostedZoneId, "acm"],
  ];
  for (const [key, value, mode] of elsewhere) {
    if (value && tls.mode !== mode) {
      problems.push(
        `${key} is set ('${value}') but tls.mode is ${tls.mode}: it is used only with tls.mode ${mode}; ` +
          `give --tls-mode ${mode}, or unset ${key}`,
      );
    }
  }
  return problems;
}

/** What a command cannot do without, given the rest of the configuration. */
export type Purpose = "deploy" | "cluster";

export function requiredSettings(config: Config, purpose: Purpose): string[] {
  if (purpose === "cluster") return ["cluster.name", "cluster.region"];
  const keys: string[] = [];
  if (config.storage.type === "efs") keys.push("storage.efs.fileSystemId");
  if (config.storage.type === "nfs") keys.push("storage.nfs.server");
  if (config.backup.bucket && config.backup.credentials === "irsa") keys.push("backup.roleArn");
  // The backup job needs a region for S3; the cluster's is the natural default.
  if (config.backup.bucket && !config.backup.region && !config.cluster.region) keys.push("backup.region");
  keys.push(...tlsRequiredSettings(config));
  return keys;
}
