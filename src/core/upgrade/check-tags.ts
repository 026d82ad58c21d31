/**
 * The tags of the upgrade's check image: `before-<UTC time>-<random>`, one per run, so that two runs (or
 * a run and a leftover of a failed one) never push the same tag and pull each other's image. After a run,
 * all but the newest few are removed: they are clouddrove's, not the user's data, and would pile up.
 */

/** How many check images stay after a run (the newest): enough to look at a recent run's. */
export const CHECK_TAGS_KEPT = 3;

const CHECK_TAG = /^before-(\d{8}T\d{6}Z?)(-[0-9a-f]+)?$/;

/** before-20261206T230112Z-a1b2c3 */
export function checkTag(at: Date, unique: string): string {
  return `before-${at.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "")}-${unique}`;
}

/** The check tags to remove so that the newest `keep` remain; other tags are never touched. */
export function checkTagsToRemove(tags: string[], keep: number): string[] {
  const checks = tags.filter((tag) => CHECK_TAG.test(tag));
  // The time comes first after "before-", so name order is time order.
  checks.sort();
  return checks.slice(0, Math.max(0, checks.length - keep));
}
