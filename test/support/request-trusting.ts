/**
 * A request to a registry that serves a certificate from clouddrove's private CA, as a client that trusts
 * only that CA sends it, for the tests that check what a client sees. Node's global fetch cannot be given
 * a CA without a dispatcher from the undici package; the product's own registry client can, so this is it.
 */
import { type Answer, exchange, type TlsTrust } from "../../src/adapters/http-exchange.js";

export type { TlsTrust };

/** Long enough for a loaded machine; the tests that use it bound their own waits. */
const TIMEOUT_MS = 30_000;

export function requestTrusting(
  trust: TlsTrust,
): (url: string, init?: { method?: string; headers?: Record<string, string> }) => Promise<Answer> {
  return (url, init = {}) => exchange(new URL(url), { ...init, tls: trust, timeoutMs: TIMEOUT_MS });
}
