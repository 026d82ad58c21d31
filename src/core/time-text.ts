/**
 * Times for people and scripts alike: ISO 8601 in UTC (sortable, unambiguous across zones) with the age
 * beside it, so nobody has to work out how long ago "2026-12-06T03:00:12Z" was.
 */

/** 2026-12-06T03:00:12Z: whole seconds, UTC. Undefined for a value that is not a time. */
export function isoUtc(value: string | Date): string | undefined {
  const time = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(time.getTime())) return undefined;
  return time.toISOString().replace(/\.\d+Z$/, "Z");
}

/**
 * A time read from the API, as ISO 8601 UTC; null when absent or unreadable. The server sends RFC 3339
 * strings where the client-node models say Date: this takes either.
 */
export function apiTime(value: string | Date | undefined): string | null {
  return value === undefined ? null : (isoUtc(value) ?? null);
}

/** How long before `now`: "42s ago", "5m ago", "3h 12m ago", "2d 4h ago" ("in the future" past a skew). */
export function ageText(time: Date, now: Date): string {
  const seconds = Math.round((now.getTime() - time.getTime()) / 1000);
  if (seconds < 0) return "in the future (check the clocks)";
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return `${days}d ${hours}h ago`;
  if (hours > 0) return `${hours}h ${minutes}m ago`;
  if (minutes > 0) return `${minutes}m ago`;
  return `${seconds}s ago`;
}

/** "2026-12-06T03:00:12Z (19h 48m ago)"; a value that is not a time is shown as it is. */
export function timeWithAge(value: string | Date, now: Date): string {
  const iso = isoUtc(value);
  return iso === undefined ? String(value) : `${iso} (${ageText(new Date(iso), now)})`;
}
