/**
 * When may the registry go back to the previous version? Forward-only in general: data that Distribution 3
 * wrote (new repositories, tags, or tags moved) might use what 2.x does not understand, and a rollback
 * would hide it. The rule: the registry's repositories and tags are fingerprinted through its API at the
 * moment the new version takes over; a rollback is allowed when the fingerprint is unchanged, i.e. the new
 * version added, removed or re-pointed no tag. Re-pointing an existing tag to another digest is only seen
 * when tags are fingerprinted with digests, which costs one request per tag, so it is not: the rule speaks
 * of repositories and tag names. The check image clouddrove itself pushes is left out.
 */
import { createHash } from "node:crypto";
import type { RegistryFingerprint } from "./state.js";

/** The repository clouddrove pushes its before/after check image to; not the user's data. */
export const CHECK_REPOSITORY = "clouddrove/upgrade-check";

export function fingerprintOf(catalog: Array<{ repository: string; tags: string[] }>): RegistryFingerprint {
  const lines: string[] = [];
  let repositories = 0;
  for (const entry of catalog) {
    if (entry.repository === CHECK_REPOSITORY) continue;
    repositories++;
    for (const tag of entry.tags) lines.push(`${entry.repository}:${tag}`);
    if (entry.tags.length === 0) lines.push(`${entry.repository}:`);
  }
  lines.sort();
  return {
    repositories,
    tags: lines.filter((l) => !l.endsWith(":")).length,
    sha256: createHash("sha256").update(lines.join("\n")).digest("hex"),
  };
}

export type RollbackVerdict =
  | { allowed: true; reason: string }
  | { allowed: false; reason: string; override: string };

export function rollbackVerdict(options: {
  bumped: boolean;
  before: RegistryFingerprint | null | undefined;
  beforeNote?: string;
  now: RegistryFingerprint | null;
  nowNote?: string;
  ignoreNewData: boolean;
}): RollbackVerdict {
  if (!options.bumped) return { allowed: true, reason: "the new registry version was never applied" };
  const override = "--ignore-new-data";
  if (options.ignoreNewData) {
    return { allowed: true, reason: `${override}: rolled back without comparing the registry's data` };
  }
  if (!options.before) {
    return {
      allowed: false,
      override,
      reason: `the registry's tags could not be read when the new version took over (${options.beforeNote ?? "no fingerprint"}), so it cannot be shown that the new version wrote nothing`,
    };
  }
  if (!options.now) {
    return {
      allowed: false,
      override,
      reason: `the registry's tags cannot be read now (${options.nowNote ?? "unreachable"}), so it cannot be shown that the new version wrote nothing`,
    };
  }
  if (options.now.sha256 === options.before.sha256) {
    return {
      allowed: true,
      reason: `no repository or tag was added or removed since the new version took over (${options.now.repositories} repositories, ${options.now.tags} tags)`,
    };
  }
  return {
    allowed: false,
    override,
    reason: `the registry's tags changed since the new version took over (${options.before.repositories} -> ${options.now.repositories} repositories, ${options.before.tags} -> ${options.now.tags} tags): data written by the new version could be lost or unreadable after a rollback; restore from the backup taken before the upgrade instead`,
  };
}
