/**
 * What `clouddrove login` runs, or prints to run, per container tool. The password goes to the tool on
 * stdin (`--password-stdin`): in a printed command it comes straight out of the pull Secret through a
 * pipe, so it is never on a command line, in the output or in shell history.
 */
import { commandLine } from "../command-line.js";
import { names } from "../render/names.js";
import type { TrustReport } from "../trust/report.js";

/** Docker first: the one `login` is for; nerdctl and Podman are logged in too where installed. */
export const LOGIN_TOOLS = ["docker", "nerdctl", "podman"] as const;
export type LoginTool = (typeof LOGIN_TOOLS)[number];

/** The argv after the tool's name; the password is read from stdin. */
export function loginArgs(address: string, username: string): string[] {
  return ["login", "--username", username, "--password-stdin", address];
}

/**
 * The pipeline that logs `tool` in on a machine with kubectl and jq: the password from the pull Secret
 * (every entry of its `auths` holds the same one) straight into the tool's stdin.
 */
export function printedLogin(input: {
  tool: LoginTool;
  address: string;
  username: string;
  namespace: string;
  kubectl: readonly string[];
}): string {
  const password = commandLine(
    "kubectl",
    input.kubectl,
    `get secret ${names.pullSecret} -n ${input.namespace} -o jsonpath='{.data.\\.dockerconfigjson}'`,
  );
  const login = [input.tool, ...loginArgs(input.address, input.username)].join(" ");
  return `${password} | base64 -d | jq -r 'first(.auths[].password)' | ${login}`;
}

export type ClientOutcome =
  /** The tool ran `login` and it succeeded. */
  | "logged-in"
  | "failed"
  /** --dry-run: it would run. */
  | "would-run"
  /** Not run here (not installed, or the CA could not be trusted): the printed command does it. */
  | "run-yourself";

export interface ClientLogin {
  tool: LoginTool;
  installed: boolean;
  outcome: ClientOutcome;
  /** What runs (the tool's argv, no password) or what to run (the pipeline). */
  command: string;
  /** The tool's own words when it failed, or why it was not run. */
  message?: string;
}

export interface LoginReport {
  address: string;
  username: string;
  tlsMode: string;
  /** The CA installed for the tools (private-ca only). */
  trust?: TrustReport;
  clients: ClientLogin[];
}

export function loginReportText(report: LoginReport, trustText?: string): string {
  const lines = [`Registry: ${report.address} (user ${report.username}, TLS mode ${report.tlsMode})`];
  if (trustText) lines.push(trustText);
  for (const client of report.clients) {
    switch (client.outcome) {
      case "logged-in":
        lines.push(`${client.tool}: logged in (${client.command})`);
        break;
      case "would-run":
        lines.push(`${client.tool}: would run ${client.command}  (password on stdin)`);
        break;
      case "failed":
        lines.push(`${client.tool}: login failed: ${client.message ?? "no message"}`);
        break;
      case "run-yourself":
        lines.push(`${client.tool}: ${client.message ?? "not run here"}; run:`, `  ${client.command}`);
        break;
    }
  }
  return lines.join("\n");
}
