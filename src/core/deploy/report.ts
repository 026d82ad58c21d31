/**
 * What `deploy` prints when it is done: the JSON document, or the text summary with the registry's
 * address, the docker login line and where the credentials are.
 */

import { commandLine, type Reach } from "../command-line.js";
import { names } from "../render/names.js";
import { type RegistryUsage, registryUsageText } from "../tls/usage.js";
import { countActions } from "./objects.js";

/** The namespace a command uses without -n: a printed next step needs -n only for another one. */
const DEFAULT_NAMESPACE = "clouddrove";

export interface DeployReport {
  ok: boolean;
  dryRun: boolean;
  target: string;
  /** The flags printed next steps need to reach the same cluster (kubectl's and clouddrove's). */
  reach: Reach;
  objects: Array<{ kind: string; name: string; namespace?: string; action: string }>;
  registry: {
    address: string | null;
    inCluster: string;
    username: string;
    credentialsSecret: string;
    pullSecret: string;
    credentialsSource: string;
  };
  /** Image names, trust and login per tls.mode. */
  usage?: RegistryUsage;
  /** The served certificate (tls.mode private-ca; with secret, `secret` names the Secret it is read from). */
  certificate?: { names: string[]; notAfter: string; issued?: string; caCreated: boolean; secret?: string };
  warnings: string[];
  diffs?: string[];
  steps: Array<{ title: string; status: string; startedAt?: string; endedAt?: string }>;
}

export function deployReportText(report: DeployReport, namespace: string): string {
  if (report.dryRun) {
    const changes = report.objects.filter((o) => o.action !== "unchanged");
    const lines = [`Server dry run against ${report.target}: nothing was changed.`];
    for (const o of report.objects) lines.push(`  ${o.kind}/${o.name}: would be ${o.action}`);
    if (report.diffs && report.diffs.length > 0) lines.push("", ...report.diffs);
    else if (changes.length === 0) lines.push("Everything is up to date.");
    return lines.join("\n");
  }
  const unchanged = report.objects.every((o) => o.action === "unchanged");
  const r = report.registry;
  return [
    unchanged
      ? `The registry on ${report.target} was already up to date: nothing changed.`
      : `The registry is deployed on ${report.target}: ${countActions(report.objects.map((o) => o.action))}.`,
    ...report.objects.map((o) => `  ${o.kind}/${o.name}: ${o.action}`),
    "",
    `Address:        ${r.address ?? "(no load balancer address)"}`,
    `In the cluster: ${r.inCluster}`,
    `User:           ${r.username} (password in Secret ${namespace}/${r.pullSecret})`,
    ...certificateLines(report),
    "",
    ...(report.usage
      ? registryUsageText(report.usage)
      : [
          "Log in:",
          `  ${commandLine("kubectl", report.reach.kubectl, `get secret ${r.pullSecret} -n ${namespace} -o jsonpath='{.data.\\.dockerconfigjson}' | base64 -d`)}`,
          `  docker login ${r.address ?? r.inCluster} -u ${r.username}`,
        ]),
    "Next:",
    `  ${commandLine("clouddrove status", report.reach.clouddrove, namespace === DEFAULT_NAMESPACE ? "" : `-n ${namespace}`)}   # health of nodes, replicas, storage and service`,
  ].join("\n");
}

function certificateLines(report: DeployReport): string[] {
  const c = report.certificate;
  if (!c) return [];
  return [
    `Certificate:    ${c.names.join(", ")}; valid until ${c.notAfter.slice(0, 10)}${c.issued ? ` (issued now: ${c.issued})` : ""}${c.secret ? ` (from Secret ${c.secret})` : ""}`,
    ...(c.caCreated ? [`CA:             new; its certificate is in ConfigMap ${names.caConfigMap}`] : []),
  ];
}

export const credentialsSecretNames = {
  credentialsSecret: names.htpasswdSecret,
  pullSecret: names.pullSecret,
};
