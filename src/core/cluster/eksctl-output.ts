/**
 * Reading eksctl's output: its log lines (`2024-01-01 12:00:00 [ℹ]  message`, with ✔ success, ! warning,
 * ✖ error, ▶ debug) and, when it fails (exit 1, `Error: ...` on stderr), turning the failures users
 * actually meet into errors whose hint names the fix.
 */
import { type ClouddroveError, CredentialsError, OperationError, UsageError } from "../../errors.js";

export type EksctlLevel = "info" | "success" | "warning" | "error" | "debug" | "plain";

export interface EksctlLine {
  level: EksctlLevel;
  /** eksctl's own timestamp, when the line has one. */
  time?: string;
  message: string;
}

const LEVELS: Record<string, EksctlLevel> = {
  ℹ: "info",
  "✔": "success",
  "!": "warning",
  "✖": "error",
  "▶": "debug",
};

const LOG_LINE = /^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\S*) \[(ℹ|✔|!|✖|▶)\]\s+(.*)$/;

// eksctl colours its output on a terminal; it is not one here, but strip escapes to be safe.
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are control characters
const ANSI = /\u001b\[[0-9;]*m/g;

export function parseEksctlLine(raw: string): EksctlLine {
  const line = raw.replace(ANSI, "").trimEnd();
  const match = LOG_LINE.exec(line);
  if (!match) return { level: "plain", message: line.trim() };
  return { level: LEVELS[match[2] as string] ?? "plain", time: match[1], message: match[3] as string };
}

export interface EksctlFailure {
  /** The command line that failed, as the user could type it. */
  command: string;
  exitCode?: number;
  /** Every line eksctl printed (stdout and stderr), in order. */
  lines: EksctlLine[];
  stderr: string;
  timedOut?: boolean;
  timeoutText?: string;
  /** For hints that name a rerun. */
  cluster?: string;
  region?: string;
  zones?: string[];
}

/** `Error: ...` from stderr, else the last ✖ line: the sentence that says what went wrong. */
function headline(failure: EksctlFailure): string {
  const fromStderr = failure.stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("Error:"))
    .at(-1);
  if (fromStderr) return fromStderr.replace(/^Error:\s*/, "");
  const lastError = failure.lines.filter((l) => l.level === "error").at(-1);
  return lastError?.message ?? failure.stderr.trim().split("\n").at(-1) ?? "eksctl failed";
}

/** Zones named by EKS in "Retry and choose from these availability zones: a, b, c". */
export function zonesFromCapacityError(text: string): string[] {
  const match = /choose from these availability zones:\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)/i.exec(text);
  if (!match) return [];
  return (match[1] as string)
    .split(",")
    .map((z) => z.trim())
    .filter((z) => /^[a-z]{2}(-[a-z]+)+-\d+[a-z]$/.test(z));
}

/** Three zones to retry with: keep the requested ones EKS accepts, then fill up from EKS's list. */
export function retryZones(requested: readonly string[], accepted: readonly string[]): string[] {
  const keep = requested.filter((z) => accepted.includes(z));
  const fill = accepted.filter((z) => !keep.includes(z));
  return [...keep, ...fill].slice(0, 3);
}

export function explainEksctlFailure(failure: EksctlFailure): ClouddroveError {
  const all = [...failure.lines.map((l) => l.message), failure.stderr].join("\n");
  const cleanup =
    failure.cluster && failure.region
      ? ` Clean up what was started with \`clouddrove cluster delete --cluster-name ${failure.cluster} --region ${failure.region}\` if needed.`
      : "";
  const details = failure.lines
    .filter((l) => l.level === "error")
    .slice(-5)
    .map((l) => l.message);

  if (failure.timedOut) {
    return new OperationError(
      `${failure.command} did not finish within ${failure.timeoutText ?? "its timeout"}.`,
      {
        details,
        hint: `eksctl was stopped; CloudFormation may still be working. Raise --eksctl-timeout, then run the command again (it reconciles what exists).${cleanup}`,
      },
    );
  }
  if (/UnsupportedAvailabilityZoneException|does not currently have sufficient capacity/i.test(all)) {
    const accepted = zonesFromCapacityError(all);
    const zones = retryZones(failure.zones ?? [], accepted);
    return new OperationError("EKS has no capacity for the control plane in one of the chosen zones.", {
      details: [...details, accepted.length ? `EKS accepts: ${accepted.join(", ")}` : ""].filter(Boolean),
      hint:
        zones.length === 3
          ? `Run again with --zones ${zones.join(",")}.${cleanup}`
          : `Run again with --zones naming three of the zones EKS lists above.${cleanup}`,
    });
  }
  // eksctl 0.215 checks the version against EKS's own list (DescribeClusterVersions) and says either
  // "invalid version, supported values: ..." or "invalid version, 1.29 is no longer supported, supported
  // values: ..."; older releases checked a list built into them ("is not known to this version").
  if (/invalid version,[^\n]*supported values:|is not known to this version of eksctl/i.test(all)) {
    return new UsageError(`eksctl refused the Kubernetes version: ${headline(failure)}`, {
      hint:
        "Pick a version it lists with --kubernetes-version. If EKS offers the one you want, upgrade " +
        "eksctl (https://eksctl.io/installation/): older releases check a list of their own.",
    });
  }
  if (
    /NoCredentialProviders|no EC2 IMDS role found|failed to refresh cached credentials|ExpiredToken|InvalidClientTokenId|UnrecognizedClientException|checking AWS STS access/i.test(
      all,
    )
  ) {
    return new CredentialsError(`eksctl could not use your AWS credentials: ${headline(failure)}`, {
      hint: "Configure AWS credentials (AWS_PROFILE, `aws sso login`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and check `aws sts get-caller-identity`.",
    });
  }
  if (/AddressLimitExceeded|maximum number of addresses has been reached/i.test(all)) {
    return new OperationError("The account ran out of Elastic IP addresses for the NAT gateways.", {
      details,
      hint: `A NAT gateway per zone needs three Elastic IPs: release unused ones or raise the EC2 "EC2-VPC Elastic IPs" quota, then run again.${cleanup}`,
    });
  }
  if (/VpcLimitExceeded|maximum number of VPCs has been reached/i.test(all)) {
    return new OperationError("The account has reached its VPC limit in this region.", {
      details,
      hint: `Delete an unused VPC or raise the "VPCs per Region" quota, then run again.${cleanup}`,
    });
  }
  if (/is not supported in your requested Availability Zone/i.test(all)) {
    return new OperationError("The instance type is not offered in one of the chosen zones.", {
      details,
      hint: `Choose another --instance-type, or other --zones.${cleanup}`,
    });
  }
  if (/AlreadyExistsException|already exists/i.test(all)) {
    return new OperationError(`eksctl found parts of this cluster already in place: ${headline(failure)}`, {
      details,
      hint: `A previous attempt left CloudFormation stacks behind. Run \`clouddrove cluster delete\` to remove them, or \`eksctl utils describe-stacks\` to inspect them.`,
    });
  }
  return new OperationError(`${failure.command} failed: ${headline(failure)}`, {
    details,
    hint: `See eksctl's messages above; \`eksctl utils describe-stacks${failure.region ? ` --region ${failure.region}` : ""}${failure.cluster ? ` --cluster ${failure.cluster}` : ""}\` shows the CloudFormation events.${cleanup}`,
  });
}
