/**
 * The `config show` report: every setting, its value, its source, and how to set it. Secrets (the
 * registry password) appear only as whether they are set and from where, never their value.
 */
import type { ResolvedConfig } from "./resolve.js";
import { envVarName, REGISTRY_PASSWORD_ENV, SETTINGS } from "./settings.js";

export interface ConfigReportRow {
  key: string;
  value: string | number | string[] | null;
  source: string;
  flag: string;
  env: string;
}

export interface ConfigReport {
  file: string | null;
  settings: ConfigReportRow[];
  secrets: Array<{ name: string; value: string; source: string }>;
  text: string;
}

function display(value: ConfigReportRow["value"]): string {
  if (value === null) return "(unset)";
  if (Array.isArray(value)) return value.length === 0 ? "[]" : value.join(",");
  return String(value);
}

export function showConfig(resolved: ResolvedConfig, env: NodeJS.ProcessEnv): ConfigReport {
  const settings = SETTINGS.map((setting) => ({
    key: setting.key,
    value: resolved.values.get(setting.key) ?? null,
    source: resolved.sources.get(setting.key) ?? "unset",
    flag: `--${setting.flag}`,
    env: envVarName(setting.key),
  }));
  const password = env[REGISTRY_PASSWORD_ENV];
  const secrets = [
    {
      name: "registry password",
      value: password ? "********" : "(unset: read from the cluster, else prompted or generated)",
      source: password ? `env ${REGISTRY_PASSWORD_ENV}` : "unset",
    },
  ];
  const keyWidth = Math.max(...settings.map((s) => s.key.length));
  const valueWidth = Math.min(40, Math.max(...settings.map((s) => display(s.value).length)));
  const lines = [`config file: ${resolved.file ?? "(none)"}`, ""];
  lines.push(`${"KEY".padEnd(keyWidth)}  ${"VALUE".padEnd(valueWidth)}  SOURCE`);
  for (const row of settings) {
    lines.push(`${row.key.padEnd(keyWidth)}  ${display(row.value).padEnd(valueWidth)}  ${row.source}`);
  }
  for (const secret of secrets) {
    lines.push(`${secret.name.padEnd(keyWidth)}  ${secret.value.padEnd(valueWidth)}  ${secret.source}`);
  }
  return { file: resolved.file ?? null, settings, secrets, text: lines.join("\n") };
}
