/**
 * Colour through chalk, with the level decided by io/env (not by chalk's own detection), so that
 * NO_COLOR, --no-color, TERM=dumb and non-TTY stderr all turn it off in one place.
 *
 * chalk is loaded only when colour can be on at all (preparePainter, awaited by main before any command
 * runs): loading it costs a few milliseconds of every start-up, and in CI, in pipes and under NO_COLOR
 * nothing would be painted anyway.
 */
import type { ChalkInstance } from "chalk";

export interface Painter {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const plain = (text: string) => text;
const PLAIN: Painter = { red: plain, green: plain, yellow: plain, cyan: plain, dim: plain, bold: plain };

let Chalk: (new (options: { level: 0 | 1 }) => ChalkInstance) | undefined;

/** Loads chalk when `colorPossible`; painter(true) needs this to have been awaited. */
export async function preparePainter(colorPossible: boolean): Promise<void> {
  if (colorPossible && !Chalk) Chalk = (await import("chalk")).Chalk;
}

export function painter(color: boolean): Painter {
  if (!color) return PLAIN;
  if (!Chalk) throw new Error("painter(true) before preparePainter(true): chalk is not loaded");
  const chalk = new Chalk({ level: 1 });
  return {
    red: (t) => chalk.red(t),
    green: (t) => chalk.green(t),
    yellow: (t) => chalk.yellow(t),
    cyan: (t) => chalk.cyan(t),
    dim: (t) => chalk.dim(t),
    bold: (t) => chalk.bold(t),
  };
}
