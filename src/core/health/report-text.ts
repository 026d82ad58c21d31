/**
 * The text form of `clouddrove status`: tables a person reads at a glance, problems last, one per line.
 */
import { timeWithAge } from "../time-text.js";
import type { HealthReport } from "./evaluate.js";

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

const yesNo = (b: boolean) => (b ? "yes" : "no");

/** `now` dates the last backup's age. */
export function healthReportText(report: HealthReport, target: string, now: Date): string {
  const r = report.registry;
  const lines = [
    `Registry on ${target}: ${r.image ?? "(no Deployment)"}, ${r.ready}/${r.desired} ready, ${r.updated} updated, ${r.available} available`,
  ];
  if (r.pods.length > 0) {
    lines.push(
      ...table(
        ["POD", "NODE", "ZONE", "READY", "RESTARTS", "STATE"],
        r.pods.map((p) => [
          p.name,
          p.node ?? "-",
          p.zone ?? "-",
          yesNo(p.ready),
          String(p.restarts),
          p.reason ?? "Running",
        ]),
      ),
    );
  }
  lines.push("", "Nodes:");
  lines.push(
    ...table(
      ["NAME", "ZONE", "READY", "SCHEDULABLE", "KUBELET"],
      report.nodes.map((n) => [
        n.name,
        n.zone ?? "-",
        yesNo(n.ready),
        yesNo(n.schedulable),
        n.kubeletVersion ?? "-",
      ]),
    ),
  );
  const s = report.storage;
  lines.push(
    "",
    `Storage:          claim ${s.claim ?? "(missing)"} ${s.claimPhase ?? ""}, volume ${s.volume ?? "(missing)"} ${s.volumePhase ?? ""}`.trimEnd(),
    `Service:          ${report.service.address ?? "(no load balancer address)"}, ${report.service.endpoints} endpoint(s)`,
    `NetworkPolicies:  ${report.networkPolicies.join(", ") || "(none)"}`,
    `Disruption budget: ${
      report.disruptionBudget
        ? `${report.disruptionBudget.allowedDisruptions} disruption(s) allowed (${report.disruptionBudget.currentHealthy} healthy, ${report.disruptionBudget.desiredHealthy} required)`
        : "(missing)"
    }`,
    `Last backup:      ${report.backup.lastJob ? `${report.backup.lastJob} ${report.backup.result}${report.backup.finishedAt ? ` at ${timeWithAge(report.backup.finishedAt, now)}` : ""}` : "none yet"}`,
    "",
  );
  if (report.healthy) lines.push("Healthy.");
  else
    lines.push(`Unhealthy: ${report.problems.length} problem(s):`, ...report.problems.map((p) => `  - ${p}`));
  return lines.join("\n");
}
