/**
 * What the next commands do when the configuration names another registry version than the one an
 * upgrade left running: said exactly, since a major step back is refused and a minor one is not.
 */
import { majorOf } from "../registry/image.js";

export function staleVersionConsequence(configured: string, running: string): string {
  const from = majorOf(running);
  const to = majorOf(configured);
  if (from !== undefined && to !== undefined && to < from) {
    return `the next \`clouddrove deploy\` refuses to run (it never moves the registry back a major version) and \`clouddrove status\` reports the image as unexpected`;
  }
  return `the next \`clouddrove deploy\` moves the registry back to ${configured}`;
}
