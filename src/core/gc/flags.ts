/**
 * The ConfigMap's `garbage-collect-flags` (what an operator runs `registry garbage-collect` with by hand)
 * read into the two choices `clouddrove gc` passes to its Job. --dry-run is the command's own (`gc
 * --dry-run`), so a --dry-run in the ConfigMap is accepted and ignored; --delete-untagged is taken from
 * it. Anything else is refused: the Job would pass it on to a binary that may not know it.
 */
import { UsageError } from "../../errors.js";
import { names } from "../render/names.js";

export interface GcFlags {
  deleteUntagged: boolean;
}

const BOOLEAN = /^(true|false|1|0|t|f|TRUE|FALSE|True|False)$/;

/** Go's flag package: `--x`, `--x=true|false` (and -x), booleans only. */
function booleanFlag(token: string, long: string, short: string): boolean | undefined {
  const match = /^--?([a-z-]+)(?:=(.*))?$/.exec(token);
  if (!match || (match[1] !== long && match[1] !== short)) return undefined;
  const value = match[2];
  if (value === undefined) return true;
  if (!BOOLEAN.test(value)) {
    throw flagError(`--${long}=${value} is not true or false`);
  }
  return /^(true|1|t)$/i.test(value);
}

function flagError(problem: string): UsageError {
  return new UsageError(
    `The ConfigMap's ${names.configMapKeys.garbageCollectFlags} cannot be used: ${problem}. Nothing was changed.`,
    {
      hint: `Fix it with \`kubectl -n NAMESPACE edit configmap ${names.configMap}\` (it takes --delete-untagged[=true|false] and --dry-run), or run clouddrove deploy to restore the default.`,
    },
  );
}

/** The flags text (undefined or empty: the defaults, nothing untagged deleted). */
export function parseGcFlags(text: string | undefined): GcFlags {
  const flags: GcFlags = { deleteUntagged: false };
  for (const token of (text ?? "").trim().split(/\s+/).filter(Boolean)) {
    const untagged = booleanFlag(token, "delete-untagged", "m");
    if (untagged !== undefined) {
      flags.deleteUntagged = untagged;
      continue;
    }
    if (booleanFlag(token, "dry-run", "d") !== undefined) continue;
    throw flagError(`${token} is not a flag clouddrove gc passes on`);
  }
  return flags;
}
