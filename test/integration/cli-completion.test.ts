/**
 * `clouddrove completion bash` loaded into a real bash: the words it offers at each point of a command
 * line. zsh and fish are not installed here; their scripts are checked for what they declare.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CLI, runBuiltCli } from "../support/built-cli.js";

/** What bash's completion offers for the words typed so far (the last one is being completed). */
function complete(...words: string[]): string[] {
  const typed = words.map((w) => `'${w}'`).join(" ");
  const script = [
    `source <("${process.execPath}" "${CLI}" completion bash)`,
    `COMP_WORDS=(clouddrove ${typed}); COMP_CWORD=${words.length}`,
    "_clouddrove_completion",
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join("\n");
  return execFileSync("bash", ["-c", script], { encoding: "utf8" }).split("\n").filter(Boolean);
}

describe("clouddrove completion bash", () => {
  it("completes subcommands, nested subcommands past global flags, flags and their values", () => {
    expect(complete("")).toEqual(
      expect.arrayContaining(["init", "deploy", "status", "backup", "completion"]),
    );
    expect(complete("ba")).toEqual(["backup"]);
    expect(complete("backup", "")).toEqual(
      expect.arrayContaining(["now", "list", "snapshot", "verify", "restore"]),
    );
    expect(complete("--config", "x.yaml", "backup", "re")).toEqual(["restore"]);
    expect(complete("deploy", "--reg")).toEqual(expect.arrayContaining(["--region", "--registry-version"]));
    expect(complete("deploy", "--reg")).not.toContain("--backup-bucket");
    expect(complete("-o", "")).toEqual(["text", "json", "yaml"]);
    expect(complete("deploy", "--dry-run", "")).toEqual(["client", "server"]);
    expect(complete("status", "--con")).toEqual(["--config", "--context"]);
    expect(complete("backup", "now", "--backup-s")).toEqual(["--backup-secret-name"]); // no --backup-schedule
    expect(complete("completion", "")).toEqual(["bash", "zsh", "fish"]);
  });

  it("zsh loads the bash function through bashcompinit; fish declares each command and flag", () => {
    const zsh = runBuiltCli(["completion", "zsh"]);
    expect(zsh.status).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef clouddrove\n/);
    expect(zsh.stdout).toContain("autoload -U +X bashcompinit && bashcompinit");
    expect(zsh.stdout).toContain("complete -F _clouddrove_completion clouddrove");
    const fish = runBuiltCli(["completion", "fish"]);
    expect(fish.stdout).toContain("complete -c clouddrove -n '__fish_use_subcommand' -a deploy");
    expect(fish.stdout).toContain(
      "complete -c clouddrove -n '__fish_seen_subcommand_from backup; and not __fish_seen_subcommand_from now list snapshot verify restore' -a restore",
    );
    expect(fish.stdout).toContain("complete -c clouddrove -n '__fish_seen_subcommand_from deploy' -l region");
    expect(fish.stdout).toContain("complete -c clouddrove -s o -l output -x -a 'text json yaml'");
  });

  it("refuses a shell it does not know, exit 2", () => {
    const run = runBuiltCli(["completion", "tcsh"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("Allowed choices are bash, zsh, fish");
    expect(run.stdout).toBe("");
  });
});
