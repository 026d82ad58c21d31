/**
 * What every command's --help and every usage error look like: the global options under each command's
 * own, examples, no "(default: false)" noise, and parser errors in the same "Error: ... / Hint: ..."
 * form as the commands' own (cli.ts prints those).
 */
import { type Command, Help, type Option } from "commander";

/** Examples shown under a command's help, by command path. Each must run as written (a test parses them). */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  "": [
    "clouddrove init",
    "clouddrove deploy --sandbox --yes",
    "clouddrove status --context prod -o json",
    "source <(clouddrove completion bash)",
  ],
  init: [
    "clouddrove init",
    "clouddrove init --yes --region eu-west-1 --efs-file-system-id fs-0123456789abcdef0",
  ],
  "config show": ["clouddrove config show", "clouddrove config show --set storage.size=100Gi -o json"],
  "config set": [
    "clouddrove config set registry.version 3.0.0",
    "clouddrove config set network.allowedCidrs 10.0.0.0/8",
  ],
  "cluster create": [
    "clouddrove cluster create --region eu-west-1 --dry-run",
    "clouddrove cluster create --sandbox",
  ],
  "cluster verify": ["clouddrove cluster verify", "clouddrove cluster verify --sandbox -o json"],
  "cluster upgrade": [
    "clouddrove cluster upgrade --kubernetes-version 1.35 --dry-run",
    "clouddrove cluster upgrade --kubernetes-version 1.35 --yes",
  ],
  "cluster delete": ["clouddrove cluster delete --dry-run", "clouddrove cluster delete --confirm clouddrove"],
  deploy: [
    "clouddrove deploy --sandbox --yes",
    "clouddrove deploy --context prod --allowed-cidrs 10.0.0.0/16",
    "clouddrove deploy --dry-run -o yaml",
    "clouddrove deploy --diff",
  ],
  status: ["clouddrove status", "clouddrove status --sandbox -o json"],
  trust: [
    "clouddrove trust --context prod",
    "clouddrove trust --sandbox --dry-run",
    "clouddrove trust --print-ca",
  ],
  login: [
    "clouddrove login --context prod",
    "clouddrove login --sandbox --dry-run",
    "clouddrove login -o json",
  ],
  "backup now": ["clouddrove backup now", "clouddrove backup now --sandbox --dry-run"],
  "backup list": ["clouddrove backup list", "clouddrove backup list -o json"],
  "backup snapshot": ["clouddrove backup snapshot --dry-run"],
  "backup verify": ["clouddrove backup verify --from latest"],
  "backup restore": [
    "clouddrove backup restore --from latest --dry-run",
    "clouddrove backup restore --from latest --confirm clouddrove",
    "clouddrove backup restore --from latest --to-claim copy",
  ],
  upgrade: [
    "clouddrove upgrade --node NODE --registry-version 3.0.0 --dry-run",
    "clouddrove upgrade --all-nodes --kubernetes-version 1.34 --yes",
    "clouddrove upgrade --resume",
  ],
  gc: ["clouddrove gc --dry-run", "clouddrove gc --yes --wait-for-lock 30m"],
  completion: [
    "source <(clouddrove completion bash)",
    "source <(clouddrove completion zsh)",
    "clouddrove completion fish | source",
  ],
};

/** "cluster create" for that command; "" for the program. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** A boolean's false and an empty list are what "not given" means; saying so is noise. */
function optionDescription(this: Help, option: Option): string {
  return Help.prototype.optionDescription.call(this, option).replace(/ \(default: (false|\[\])\)$/, "");
}

/** "error: unknown option '--x'" from commander, in the commands' form, with a hint naming the help. */
export function usageErrorText(commanderMessage: string, path: string): string {
  // "unknown command 'deplyo'\n(Did you mean deploy?)" is one sentence and its suggestion.
  const [first = "", ...rest] = commanderMessage
    .trim()
    .replace(/^error: /, "")
    .split("\n");
  const sentence = `${first.charAt(0).toUpperCase()}${first.slice(1)}${/[.?!]$/.test(first) ? "" : "."}`;
  const help = `clouddrove ${path ? `${path} ` : ""}--help`;
  return `Error: ${[sentence, ...rest].join(" ")}\nHint: \`${help}\` lists what it takes.\n`;
}

/**
 * Help and error output for the program and every command below it (commander copies settings only to
 * commands created after them, and commands are registered before this runs).
 */
export function configureHelpAndErrors(
  program: Command,
  write: { out: (t: string) => void; err: (t: string) => void },
) {
  const visit = (command: Command) => {
    const path = commandPath(command);
    command
      .exitOverride()
      .configureHelp({ showGlobalOptions: true, optionDescription })
      .configureOutput({
        writeOut: write.out,
        writeErr: write.err,
        outputError: (text) => write.err(usageErrorText(text, path)),
      });
    const examples = EXAMPLES[path];
    if (examples) command.addHelpText("after", `\nExamples:\n${examples.map((e) => `  ${e}`).join("\n")}\n`);
    for (const sub of command.commands) visit(sub);
  };
  visit(program);
}
