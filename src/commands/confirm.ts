/**
 * The confirmation before a command does something hard to undo (an upgrade's cordon, drain and one-way
 * migration, a credential rotation): what will happen is shown first; at a terminal the question
 * defaults to no, `--yes` answers it, and without a terminal nothing is done unless `--yes` was given.
 */
import { UsageError } from "../errors.js";
import type { CommandContext } from "./context.js";

export interface Confirmation {
  /** "Upgrading node X": what is asked about, as the subject of a sentence. */
  action: string;
  /** What will happen, one line each, shown before the question (and in the refusal without a terminal). */
  effects: string[];
}

/** True to go ahead; false when the person said no (the command then changes nothing). */
export async function confirmAction(ctx: CommandContext, confirmation: Confirmation): Promise<boolean> {
  if (ctx.globals.yes) return true;
  if (!ctx.interactive) {
    throw new UsageError(`${confirmation.action} needs a confirmation; nothing was changed.`, {
      details: confirmation.effects,
      hint: "Pass --yes to go ahead without a prompt (or run it at a terminal to be asked).",
    });
  }
  ctx.out.info(`${confirmation.action}:`);
  for (const effect of confirmation.effects) ctx.out.info(`  - ${effect}`);
  const yes = await ctx.prompter.confirm({ message: "Go ahead?", default: false });
  if (!yes) {
    ctx.out.info("Nothing was changed.");
    ctx.state.exitCode = 1;
  }
  return yes;
}
