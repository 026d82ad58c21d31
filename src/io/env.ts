/**
 * The one place that decides whether clouddrove may talk to a person (prompts, spinners, colour).
 * Everything else asks these functions instead of looking at process.stdin/stderr or CI itself.
 */
export type OutputFormat = "text" | "json" | "yaml";

export interface TerminalFacts {
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  env: NodeJS.ProcessEnv;
}

export interface InteractivityFlags {
  yes?: boolean;
  noInput?: boolean;
  output?: OutputFormat;
}

/** True when CI is set to anything but an explicit false value (GitHub, GitLab, Buildkite all set CI=true). */
export function isCI(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI;
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/**
 * Prompts only when a person can answer: stdin and stderr are terminals, CI is unset, and neither
 * --yes/--no-input nor machine output (-o json) was asked for.
 */
export function canPrompt(facts: TerminalFacts, flags: InteractivityFlags): boolean {
  if (!facts.stdinIsTTY || !facts.stderrIsTTY) return false;
  if (isCI(facts.env)) return false;
  if (flags.yes || flags.noInput) return false;
  if (flags.output === "json") return false;
  return true;
}

/** Colour on stderr: off under NO_COLOR, --no-color, TERM=dumb or a non-TTY stderr. */
export function colorEnabled(facts: TerminalFacts, flags: { color?: boolean }): boolean {
  if (flags.color === false) return false;
  if (facts.env.NO_COLOR !== undefined && facts.env.NO_COLOR !== "") return false;
  if (facts.env.TERM === "dumb") return false;
  if (facts.env.FORCE_COLOR !== undefined && facts.env.FORCE_COLOR !== "0") return true;
  return facts.stderrIsTTY;
}

/** listr2 renderer choice: animated on a terminal, one line per event (timestamps) in CI / without TTY. */
export type RendererKind = "default" | "simple" | "verbose" | "silent";

export function rendererKind(
  facts: TerminalFacts,
  flags: { output?: OutputFormat; verbose?: boolean },
): RendererKind {
  if (flags.output === "json") return "silent";
  if (!facts.stderrIsTTY || isCI(facts.env) || facts.env.TERM === "dumb") return "verbose";
  return "default";
}
