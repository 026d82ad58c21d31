/**
 * Whether a certificate's names cover the name a client asks for, as clients check it (RFC 6125 6.4):
 * DNS names compare case-insensitively; a wildcard is allowed only as the whole left-most label and
 * stands for exactly one label ("*.example.com" covers "registry.example.com", not "example.com" nor
 * "a.registry.example.com"); an IP address must be listed as an IP address.
 */
import { isIP } from "node:net";

export function nameMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, "");
  const n = name.toLowerCase().replace(/\.$/, "");
  if (!p.startsWith("*.")) return p === n;
  const rest = p.slice(2);
  // A wildcard over a public suffix alone ("*.com") is never honoured; two labels at least after it.
  if (rest.includes("*") || !rest.includes(".")) return false;
  const dot = n.indexOf(".");
  return dot > 0 && n.slice(dot + 1) === rest;
}

export function covers(names: { dns: string[]; ips: string[] }, name: string): boolean {
  if (isIP(name) !== 0) return names.ips.includes(name);
  return names.dns.some((pattern) => nameMatches(pattern, name));
}
