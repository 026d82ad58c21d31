/**
 * `clouddrove completion bash|zsh|fish`: prints the shell's completion script, generated from this
 * program's own commands and flags (core/completion/scripts.ts).
 */
import { Argument, type Command } from "commander";
import type { CompletionCommand } from "../core/completion/scripts.js";
import type { AppIO, RunState } from "./context.js";

const SHELLS = ["bash", "zsh", "fish"] as const;

export function registerCompletion(program: Command, io: AppIO, _state: RunState): void {
  program
    .command("completion")
    .description("print the shell completion script for bash, zsh or fish")
    .addArgument(new Argument("<shell>", "the shell to complete in").choices(SHELLS))
    .action(async (shell: (typeof SHELLS)[number], _flags: unknown, command: Command) => {
      const scripts = await import("../core/completion/scripts.js");
      const tree = completionTree(command.parent as Command);
      const script =
        shell === "bash"
          ? scripts.bashScript(tree)
          : shell === "zsh"
            ? scripts.zshScript(tree)
            : scripts.fishScript(tree);
      io.stdout.write(script);
    });
}

/** The program as the scripts see it: names, descriptions, flags and their fixed values. */
export function completionTree(command: Command): CompletionCommand {
  return {
    name: command.name(),
    description: command.description(),
    options: command.options
      .filter((option) => !option.hidden)
      .map((option) => ({
        names: [option.short, option.long].filter((name): name is string => Boolean(name)),
        description: option.description,
        choices: option.argChoices,
      })),
    commands: command.commands.map(completionTree),
    values: command.registeredArguments.flatMap((argument) => argument.argChoices ?? []),
  };
}
