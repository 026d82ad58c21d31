/**
 * `cluster verify`: what makes a cluster fit for the registry, judged from plain facts gathered by the
 * adapters (AWS and the Kubernetes API). Pure, so every verdict is unit-testable.
 */

import { EBS_CSI_DRIVER, EFS_CSI_DRIVER } from "./constants.js";
import { type EksVersion, supportWarning } from "./versions.js";

export interface NodeFact {
  name: string;
  /** The node's topology.kubernetes.io/zone label, when it has one. */
  zone?: string;
  ready: boolean;
}

export interface VerifyFacts {
  /** Zones of the control plane's subnets (DescribeCluster -> DescribeSubnets), or why they are unknown. */
  controlPlaneSubnetZones: string[] | { unknown: string };
  nodes: NodeFact[];
  /** Whether the VPC CNI enforces NetworkPolicies, and what showed it. */
  networkPolicy: { enabled: boolean; evidence: string };
  /** Names of the CSIDriver objects. */
  csiDrivers: string[];
  snapshotController: { present: boolean; ready: boolean };
  /** The registry's EFS file system and the zones of its mount targets; undefined when none was found. */
  efs?: { fileSystemId: string; mountTargetZones: string[] } | { unknown: string };
  /** The cluster's Kubernetes minor and what EKS says of its versions (absent without AWS access). */
  kubernetes?: { version: string; versions: EksVersion[] };
}

export interface VerifyCheck {
  id: string;
  title: string;
  ok: boolean;
  detail: string;
  hint?: string;
}

export interface VerifyReport {
  cluster: string;
  ok: boolean;
  checks: VerifyCheck[];
  /** What does not fail a check but costs or will cost the owner (e.g. EKS extended support). */
  warnings: string[];
}

const ZONES_NEEDED = 3;

function distinct(values: Iterable<string | undefined>): string[] {
  return [...new Set([...values].filter((v): v is string => typeof v === "string" && v !== ""))].sort();
}

function controlPlaneCheck(facts: VerifyFacts): VerifyCheck {
  const title = `control plane subnets span >= ${ZONES_NEEDED} zones`;
  if (!Array.isArray(facts.controlPlaneSubnetZones)) {
    return { id: "control-plane-zones", title, ok: false, detail: facts.controlPlaneSubnetZones.unknown };
  }
  const zones = distinct(facts.controlPlaneSubnetZones);
  return {
    id: "control-plane-zones",
    title,
    ok: zones.length >= ZONES_NEEDED,
    detail: `${zones.length} zone(s): ${zones.join(", ") || "none"}`,
    hint:
      zones.length >= ZONES_NEEDED
        ? undefined
        : "The cluster was created with fewer zones; recreate it with `clouddrove cluster create --zones a,b,c`.",
  };
}

function workersCheck(facts: VerifyFacts): VerifyCheck {
  const ready = facts.nodes.filter((n) => n.ready);
  const zones = distinct(ready.map((n) => n.zone));
  const notReady = facts.nodes.filter((n) => !n.ready).map((n) => n.name);
  const unzoned = ready.filter((n) => !n.zone).map((n) => n.name);
  const parts = [
    `${ready.length} Ready node(s) in ${zones.length} zone(s)${zones.length ? `: ${zones.join(", ")}` : ""}`,
  ];
  if (notReady.length) parts.push(`not Ready: ${notReady.join(", ")}`);
  if (unzoned.length) parts.push(`without a zone label: ${unzoned.join(", ")}`);
  const ok = ready.length >= ZONES_NEEDED && zones.length >= ZONES_NEEDED;
  return {
    id: "worker-nodes",
    title: `>= ${ZONES_NEEDED} Ready workers, each in a distinct zone`,
    ok,
    detail: parts.join("; "),
    hint: ok
      ? undefined
      : "Each zone needs a Ready worker: check the node groups (`eksctl get nodegroup`) and `kubectl get nodes -L topology.kubernetes.io/zone`.",
  };
}

function networkPolicyCheck(facts: VerifyFacts): VerifyCheck {
  return {
    id: "network-policy",
    title: "network-policy enforcement is on",
    ok: facts.networkPolicy.enabled,
    detail: facts.networkPolicy.evidence,
    hint: facts.networkPolicy.enabled
      ? undefined
      : `NetworkPolicies are silently ignored. Set the vpc-cni addon's configurationValues to {"enableNetworkPolicy": "true"} (run \`clouddrove cluster create\` again to reconcile).`,
  };
}

function driverCheck(facts: VerifyFacts, id: string, driver: string, addon: string): VerifyCheck {
  const ok = facts.csiDrivers.includes(driver);
  return {
    id,
    title: `CSI driver ${driver} is installed`,
    ok,
    detail: ok
      ? "CSIDriver present"
      : `no CSIDriver ${driver} (found: ${facts.csiDrivers.join(", ") || "none"})`,
    hint: ok
      ? undefined
      : `Install the ${addon} addon (run \`clouddrove cluster create\` again to reconcile).`,
  };
}

function snapshotCheck(facts: VerifyFacts): VerifyCheck {
  const { present, ready } = facts.snapshotController;
  return {
    id: "snapshot-controller",
    title: "the snapshot controller is running",
    ok: present && ready,
    detail: !present
      ? "no snapshot-controller Deployment"
      : ready
        ? "Deployment available"
        : "Deployment not available",
    hint:
      present && ready
        ? undefined
        : "Install the snapshot-controller addon (run `clouddrove cluster create` again to reconcile).",
  };
}

function efsCheck(facts: VerifyFacts): VerifyCheck {
  const title = "EFS has a mount target in every worker zone";
  const workerZones = distinct(facts.nodes.map((n) => n.zone));
  if (facts.efs === undefined) {
    return {
      id: "efs-mount-targets",
      title,
      ok: false,
      detail: "no EFS file system of this cluster was found",
      hint: "Run `clouddrove cluster create` again: it creates the file system and its mount targets.",
    };
  }
  if ("unknown" in facts.efs) return { id: "efs-mount-targets", title, ok: false, detail: facts.efs.unknown };
  const have = new Set(facts.efs.mountTargetZones);
  const missing = workerZones.filter((z) => !have.has(z));
  const ok = workerZones.length > 0 && missing.length === 0;
  return {
    id: "efs-mount-targets",
    title,
    ok,
    detail: `${facts.efs.fileSystemId}: mount targets in ${distinct(have).join(", ") || "no zone"}${missing.length ? `; missing in ${missing.join(", ")}` : ""}`,
    hint: ok ? undefined : "Run `clouddrove cluster create` again: it adds the missing mount targets.",
  };
}

export function evaluateCluster(cluster: string, facts: VerifyFacts, now = new Date()): VerifyReport {
  const checks = [
    controlPlaneCheck(facts),
    workersCheck(facts),
    networkPolicyCheck(facts),
    driverCheck(facts, "efs-csi-driver", EFS_CSI_DRIVER, "aws-efs-csi-driver"),
    driverCheck(facts, "ebs-csi-driver", EBS_CSI_DRIVER, "aws-ebs-csi-driver"),
    snapshotCheck(facts),
    efsCheck(facts),
  ];
  const support =
    facts.kubernetes && supportWarning(facts.kubernetes.version, facts.kubernetes.versions, now);
  return { cluster, ok: checks.every((c) => c.ok), checks, warnings: support ? [support] : [] };
}

/**
 * The colours the table uses, handed in by the command (its Output's painter, which has them all and
 * knows whether colour is on); plain text without one.
 */
export interface TableStyle {
  green(text: string): string;
  red(text: string): string;
  bold(text: string): string;
}

const plain: TableStyle = { green: (t) => t, red: (t) => t, bold: (t) => t };

/** The report as a table (CHECK, RESULT, DETAIL), then a hint line per failed check. */
export function renderVerifyTable(report: VerifyReport, paint: TableStyle = plain): string {
  const width = Math.max(5, ...report.checks.map((c) => c.title.length));
  const lines = [`${"CHECK".padEnd(width)}  RESULT  DETAIL`];
  for (const check of report.checks) {
    const result = check.ok ? paint.green("pass  ") : paint.red("FAIL  ");
    lines.push(`${check.title.padEnd(width)}  ${result}  ${check.detail}`);
  }
  const failed = report.checks.filter((c) => !c.ok);
  lines.push("");
  lines.push(
    failed.length === 0
      ? paint.bold(
          `Cluster ${report.cluster} is ready for the registry (${report.checks.length} checks passed).`,
        )
      : paint.bold(`Cluster ${report.cluster}: ${failed.length} of ${report.checks.length} checks failed.`),
  );
  for (const check of failed) if (check.hint) lines.push(`  - ${check.title}: ${check.hint}`);
  for (const warning of report.warnings) lines.push(`! ${warning}`);
  return lines.join("\n");
}
