/**
 * The result `cluster create` prints: one JSON document (-o json / yaml) or a few lines and the verify
 * table (text). Pure.
 */
import type { ClusterValues } from "./cluster-config.js";
import { renderVerifyTable, type TableStyle, type VerifyReport } from "./verify.js";

/** How the result names what was made, where that differs from an EKS cluster made with eksctl. */
export interface CreateWording {
  /** e.g. "Simulated cluster" (default "Cluster"). */
  kind: string;
  /** The line about the EFS file system (default: where its id was recorded). */
  efs: string;
  /** The line about how to reach the cluster (default: the kubeconfig context eksctl set). */
  where: string;
  /** The command to run next (default `clouddrove deploy`). */
  next: string;
}

export interface CreateOutcome {
  values: ClusterValues;
  reconciled: boolean;
  wording?: CreateWording;
  fileSystemId?: string;
  recordedIn?: string;
  kubeContext?: string;
  done: string[];
  warnings: string[];
  report?: VerifyReport;
  /** The backup bucket and role this run made or kept (steps/cluster/backup.ts). */
  backup?: { bucket?: string; bucketOrigin?: string; roleArn?: string };
}

export function createResult(outcome: CreateOutcome, paint?: TableStyle) {
  const { values, report } = outcome;
  const wording: CreateWording = outcome.wording ?? {
    kind: "Cluster",
    efs: `EFS file system ${outcome.fileSystemId} recorded in ${outcome.recordedIn} as storage.efs.fileSystemId.`,
    where: `kubectl now points at it: current context ${outcome.kubeContext}.`,
    next: "clouddrove deploy",
  };
  const data = {
    cluster: values.name,
    region: values.region,
    zones: values.zones,
    kubernetesVersion: values.kubernetesVersion,
    reconciled: outcome.reconciled,
    fileSystemId: outcome.fileSystemId ?? null,
    configFile: outcome.recordedIn ?? null,
    kubeContext: outcome.kubeContext ?? null,
    done: outcome.done,
    warnings: outcome.warnings,
    backupBucket: outcome.backup?.bucket ?? null,
    backupRoleArn: outcome.backup?.roleArn ?? null,
    verify: report ?? null,
  };
  const text = () =>
    [
      `${wording.kind} ${values.name} (${values.region}: ${values.zones.join(", ")}) ${outcome.reconciled ? "reconciled" : "created"}.`,
      wording.efs,
      ...backupLine(outcome),
      wording.where,
      "",
      report ? renderVerifyTable(report, paint) : "",
      report?.ok ? `\nNext: ${wording.next}` : "",
    ].join("\n");
  return { data, text };
}

/** Where the backups go, and whether the config file says so (a run that records nothing leaves it out). */
function backupLine(outcome: CreateOutcome): string[] {
  const bucket = outcome.backup?.bucket;
  if (!bucket) return [];
  const role = outcome.backup?.roleArn ? `; the backup job assumes ${outcome.backup.roleArn}` : "";
  const recorded = outcome.recordedIn ? ` (recorded in ${outcome.recordedIn})` : "";
  return [`Backups go to S3 bucket ${bucket}${role}${recorded}.`];
}
