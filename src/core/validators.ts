/**
 * Pure checks for setting values. Each returns undefined when the value is fine, or a sentence that says
 * what is expected (the caller adds the key, the value and where it came from).
 */
import { isIP } from "node:net";

export type Check = (value: string) => string | undefined;

// eksctl (and CloudFormation, which names the stack eksctl-NAME-cluster) accept letters, digits and
// hyphens, starting with a letter; EKS caps cluster names at 100 characters.
export const clusterName: Check = (v) =>
  /^[a-zA-Z][-a-zA-Z0-9]{0,99}$/.test(v)
    ? undefined
    : "a name of 1-100 letters, digits and hyphens that starts with a letter (EKS and CloudFormation rules)";

// Kubernetes object names (namespaces, secrets, claims): RFC 1123 labels.
export const dnsLabel: Check = (v) =>
  /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v)
    ? undefined
    : "a lowercase RFC 1123 label: letters, digits and '-', at most 63 characters, starting and ending alphanumeric";

export const awsRegion: Check = (v) =>
  /^[a-z]{2}(-gov|-iso[a-z]?)?-(central|north|south|east|west|northeast|northwest|southeast|southwest)-\d{1,2}$/.test(
    v,
  )
    ? undefined
    : "an AWS region code such as us-east-1 or eu-west-2";

export const availabilityZone: Check = (v) =>
  awsRegion(v.slice(0, -1)) === undefined && /[a-z]$/.test(v)
    ? undefined
    : "an availability zone name such as us-east-1a (the region code and one letter)";

export const kubernetesMinor: Check = (v) =>
  /^1\.\d{2}$/.test(v) ? undefined : 'a Kubernetes minor version written as a string, such as "1.33"';

export const instanceType: Check = (v) =>
  /^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(v) ? undefined : "an EC2 instance type such as m6i.large";

// Kubernetes resource.Quantity: a number with an optional binary (Ki..Ei) or decimal (m, k, M..E) suffix.
const QUANTITY = /^(\d+(\.\d+)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/;
export const quantity: Check = (v) =>
  QUANTITY.test(v) ? undefined : "a Kubernetes quantity such as 50Gi, 512Mi or 250m (not 50GB)";

export const imageTag: Check = (v) =>
  /^[\w][\w.-]{0,127}$/.test(v) ? undefined : "an image tag such as 2.8.2";

export const imageRepository: Check = (v) =>
  /^[a-z0-9]+([._/:-][a-z0-9]+)*$/.test(v)
    ? undefined
    : "an image repository such as registry or docker.io/library/registry";

export const imageReference: Check = (v) =>
  /^[a-z0-9]+([._/:-][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/.test(v) && /[:@]/.test(v)
    ? undefined
    : "an image pinned by tag or digest, such as alpine:3.24.2";

export function cidr(v: string): string | undefined {
  const expected = "a CIDR block such as 203.0.113.0/24 or 2001:db8::/32";
  const [address, prefix, extra] = v.split("/");
  if (address === undefined || prefix === undefined || extra !== undefined) return expected;
  const family = isIP(address);
  if (family === 0 || !/^\d{1,3}$/.test(prefix)) return expected;
  const bits = Number(prefix);
  if (bits > (family === 4 ? 32 : 128)) return `${expected} (the prefix /${bits} is too long)`;
  return undefined;
}

// Ranges of the five cron fields, as the CronJob controller's parser accepts them.
const CRON_FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
] as const;
const CRON_MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

function cronFieldProblem(text: string, field: (typeof CRON_FIELDS)[number]): string | undefined {
  for (const part of text.split(",")) {
    const [range, step, extra] = part.split("/");
    if (range === undefined || extra !== undefined || (step !== undefined && !/^\d+$/.test(step))) {
      return `the ${field.name} field '${text}' is not valid`;
    }
    if (range === "*" || range === "?") continue;
    for (const bound of range.split("-")) {
      const lower = bound.toLowerCase();
      const named = "names" in field ? field.names.indexOf(lower as never) : -1;
      if (named >= 0) continue;
      if (!/^\d+$/.test(bound)) return `the ${field.name} field '${text}' is not valid`;
      const n = Number(bound);
      if (n < field.min || n > field.max) {
        return `the ${field.name} field '${text}' is outside ${field.min}-${field.max}`;
      }
    }
  }
  return undefined;
}

export const cronSchedule: Check = (v) => {
  const trimmed = v.trim();
  if (CRON_MACROS.includes(trimmed)) return undefined;
  if (/^(CRON_)?TZ=/.test(trimmed)) {
    return "a schedule without a TZ= prefix (Kubernetes rejects it since 1.29); set backup.timeZone instead";
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) {
    return `a cron expression with 5 fields (minute hour day-of-month month day-of-week), such as "0 3 * * *"; this one has ${fields.length}`;
  }
  for (const [i, field] of CRON_FIELDS.entries()) {
    const problem = cronFieldProblem(fields[i] as string, field);
    if (problem) return `a valid cron expression: ${problem}`;
  }
  return undefined;
};

export const timeZone: Check = (v) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: v });
    return undefined;
  } catch {
    return "an IANA time zone such as Etc/UTC or Europe/Berlin";
  }
};

/** Durations as kubectl writes them: 90s, 10m, 1h30m. */
export const duration: Check = (v) =>
  /^(\d+h)?(\d+m)?(\d+s)?$/.test(v) && v !== "" ? undefined : "a duration such as 90s, 10m or 1h30m";

export function parseDurationMs(v: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v);
  if (!match || v === "") throw new Error(`not a duration: ${v}`);
  const [, h = "0", m = "0", s = "0"] = match;
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
}

export const s3Bucket: Check = (v) =>
  /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v) && !/\.\./.test(v) && isIP(v) === 0
    ? undefined
    : "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'";

export const s3Prefix: Check = (v) =>
  /^[A-Za-z0-9!_.*'()/-]*$/.test(v) && !v.startsWith("/")
    ? undefined
    : "an S3 key prefix without a leading '/'";

export const iamRoleArn: Check = (v) =>
  /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(v)
    ? undefined
    : "an IAM role ARN such as arn:aws:iam::123456789012:role/clouddrove-backup";

export const efsFileSystemId: Check = (v) =>
  /^fs-[0-9a-f]{8,17}$/.test(v) ? undefined : "an EFS file system id such as fs-0123456789abcdef0";

export const hostname: Check = (v) =>
  isIP(v) !== 0 || /^[a-zA-Z0-9]([-a-zA-Z0-9.]{0,251}[a-zA-Z0-9])?$/.test(v)
    ? undefined
    : "a host name or IP address";

// A name a certificate can carry and clients use: lowercase RFC 1123 labels joined by dots (an IPv4
// address is such a name too, and goes into the certificate as an IP); no wildcard, no port.
export const dnsName: Check = (v) =>
  v.length <= 253 && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/.test(v)
    ? undefined
    : "a lowercase DNS name such as registry.example.com, or an IPv4 address (no port, no wildcard)";

// A Secret's name: a DNS subdomain (RFC 1123), as Kubernetes requires of object names.
export const kubernetesName: Check = (v) =>
  v.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v)
    ? undefined
    : "a Kubernetes object name: lowercase letters, digits, '-' and '.' (e.g. registry-tls)";

/** "NAME" (an Issuer in the registry's namespace) or "NAME,kind=ClusterIssuer" / "NAME,kind=Issuer". */
export function parseIssuerRef(v: string): { name: string; kind: "Issuer" | "ClusterIssuer" } | undefined {
  const match = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(,kind=(Issuer|ClusterIssuer))?$/.exec(v);
  if (!match || kubernetesName(match[1] as string) !== undefined) return undefined;
  return { name: match[1] as string, kind: (match[4] as "Issuer" | "ClusterIssuer" | undefined) ?? "Issuer" };
}

export const certManagerIssuer: Check = (v) =>
  parseIssuerRef(v)
    ? undefined
    : "an issuer name, optionally with its kind: letsencrypt or letsencrypt,kind=ClusterIssuer";

// ACM ARNs: arn:PARTITION:acm:REGION:ACCOUNT:certificate/ID (the ID is a UUID).
export const acmCertificateArn: Check = (v) =>
  /^arn:aws[a-z-]*:acm:[a-z]{2}(-[a-z]+)+-\d:\d{12}:certificate\/[0-9a-f-]{36}$/.test(v)
    ? undefined
    : "an ACM certificate ARN such as arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f";

/** The region an ACM certificate ARN names (ACM certificates are regional). */
export const acmArnRegion = (arn: string): string => arn.split(":")[3] ?? "";

// Route 53 zone ids are upper-case letters and digits (AWS's start with Z; not every emulator's do).
export const hostedZoneId: Check = (v) =>
  /^[A-Z0-9]{1,32}$/.test(v) ? undefined : "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ";

export const absolutePath: Check = (v) =>
  v.startsWith("/") ? undefined : "an absolute path such as /exports/registry";

export const registryUsername: Check = (v) =>
  /^[A-Za-z0-9._-]{1,64}$/.test(v)
    ? undefined
    : "a user name of 1-64 letters, digits, '.', '_' or '-' (no ':')";
