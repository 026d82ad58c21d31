/**
 * The result `cluster create` prints: one JSON document (-o json / yaml) or a few lines and the verify
 * table (text). Pure.
 */
import type { ClusterValues } from "./cluster-config.js";
import { renderVerifyTable, type TableStyle, type VerifyReport } from "./verify.js";

export interface CreateOutcome {
  values: ClusterValues;
  reconciled: boolean;
  /** The sandbox's state directory, for `create --sandbox`. */
  sandboxDir?: string;
  fileSystemId?: string;
  recordedIn?: string;
  kubeContext?: string;
  done: string[];
  warnings: string[];
  report?: VerifyReport;
}

export function createResult(outcome: CreateOutcome, paint?: TableStyle) {
  const { values, sandboxDir, report } = outcome;
  const data = {
    cluster: values.name,
    region: values.region,
    zones: values.zones,
    kubernetesVersion: values.kubernetesVersion,
    sandbox: sandboxDir !== undefined,
    reconciled: outcome.reconciled,
    fileSystemId: outcome.fileSystemId ?? null,
    configFile: outcome.recordedIn ?? null,
    kubeContext: sandboxDir ? null : (outcome.kubeContext ?? null),
    done: outcome.done,
    warnings: outcome.warnings,
    verify: report ?? null,
  };
  const text = () =>
    [
      `${sandboxDir ? "Simulated cluster" : "Cluster"} ${values.name} (${values.region}: ${values.zones.join(", ")}) ${outcome.reconciled ? "reconciled" : "created"}.`,
      sandboxDir
        ? `Simulated EFS file system ${outcome.fileSystemId} (not written to the config file, which describes the real cluster).`
        : `EFS file system ${outcome.fileSystemId} recorded in ${outcome.recordedIn} as storage.efs.fileSystemId.`,
      sandboxDir
        ? `The simulated cluster's state is saved in ${sandboxDir}; use it with --sandbox (e.g. \`clouddrove deploy --sandbox\`).`
        : `kubectl now points at it: current context ${outcome.kubeContext}.`,
      "",
      report ? renderVerifyTable(report, paint) : "",
      report?.ok ? `\nNext: clouddrove deploy${sandboxDir ? " --sandbox" : ""}` : "",
    ].join("\n");
  return { data, text };
}
