/** What `clouddrove trust` tells the user: per file what it did (or would do), and what to run where it may not. */
import type { CaCertificate } from "./ca.js";
import type { ClientTool } from "./client-files.js";

export interface TrustReport {
  addresses: string[];
  ca: Omit<CaCertificate, "pem" | "sha256">;
  files: Array<{ tool: ClientTool; path: string; action: "created" | "updated" | "unchanged" }>;
  /** "written": done; "dry-run": nothing written, on purpose; "needs-root": nothing written, run `commands`. */
  outcome: "written" | "dry-run" | "needs-root";
  /** The commands that do the same as root (outcome needs-root). */
  commands?: string[];
  /** File contents (dry run only). */
  contents?: Record<string, string>;
}

export function trustReportText(report: TrustReport): string {
  const lines = [
    `Registry: ${report.addresses.join(", ")}`,
    `CA: ${report.ca.subject} (SHA-256 ${report.ca.fingerprint}, valid until ${report.ca.notAfter})`,
  ];
  const verb = report.outcome === "written" ? "" : "would be ";
  for (const file of report.files)
    lines.push(`  ${verb}${file.action.padEnd(9)} ${file.path}  (${file.tool})`);
  if (report.outcome === "dry-run") {
    for (const [path, content] of Object.entries(report.contents ?? {})) {
      lines.push("", `--- ${path}`, ...content.replace(/\n$/, "").split("\n"));
    }
  }
  if (report.outcome === "needs-root") lines.push("", ...(report.commands ?? []));
  return lines.join("\n");
}
