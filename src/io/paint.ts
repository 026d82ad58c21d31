/**
 * Colour through chalk, with the level decided by io/env (not by chalk's own detection), so that
 * NO_COLOR, --no-color, TERM=dumb and non-TTY stderr all turn it off in one place.
 */
import { Chalk } from "chalk";

export interface Painter {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export function painter(color: boolean): Painter {
  const chalk = new Chalk({ level: color ? 1 : 0 });
  return {
    red: (t) => chalk.red(t),
    green: (t) => chalk.green(t),
    yellow: (t) => chalk.yellow(t),
    cyan: (t) => chalk.cyan(t),
    dim: (t) => chalk.dim(t),
    bold: (t) => chalk.bold(t),
  };
}
