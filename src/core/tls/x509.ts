/**
 * The X.509 library (@peculiar/x509, on Node's WebCrypto), loaded when a certificate is made or read.
 * It builds on tsyringe, which needs the Reflect metadata API before it loads: hence reflect-metadata
 * first (the library's README, "Reflect Polyfill Required").
 */
import { webcrypto } from "node:crypto";

export type X509 = typeof import("@peculiar/x509");

let loaded: Promise<X509> | undefined;

export function x509(): Promise<X509> {
  loaded ??= (async () => {
    await import("reflect-metadata");
    const library = await import("@peculiar/x509");
    library.cryptoProvider.set(webcrypto as unknown as Parameters<typeof library.cryptoProvider.set>[0]);
    return library;
  })();
  return loaded;
}

/** ECDSA P-256 with SHA-256: small keys, fast to make, and accepted by Go's crypto/tls, docker and containerd. */
export const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
