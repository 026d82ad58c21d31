/**
 * One HTTP(S) request and its whole answer, on Node's own http/https — not the global fetch. Node's fetch
 * is undici, compiled on first use together with its WebAssembly HTTP parser: about 35 MiB of resident
 * memory and half a second of a short command (measured on a no-op deploy's smoke test), for a few small
 * requests to the registry. node:https also takes the CA to trust and the name to check per request,
 * which the registry's private certificate authority needs.
 */
import http from "node:http";
import https from "node:https";

/** For https: the certificate authority to trust instead of the system's, and the name to check. */
export interface TlsTrust {
  /** PEM CA certificate(s) (clouddrove's private CA); the system's CAs when undefined. */
  ca?: string;
  /**
   * The name the certificate must carry when the URL's host is another (a port-forward on 127.0.0.1
   * reaches a pod whose certificate names the Service), checked as curl --resolve would.
   */
  servername?: string;
}

export interface Exchange {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Ends the request when the whole exchange has not finished in this time. */
  timeoutMs: number;
  /** For https: whom to trust (the system's CAs when not given). */
  tls?: TlsTrust;
}

export interface Answer {
  status: number;
  /** The URL that answered. */
  url: URL;
  /** A header of the answer (lower-case name), undefined when absent. */
  header(name: string): string | undefined;
  body: Buffer;
}

export function exchange(url: URL, options: Exchange): Promise<Answer> {
  const send = url.protocol === "https:" ? https.request : http.request;
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: options.method ?? "GET",
      headers: {
        "User-Agent": "clouddrove",
        ...options.headers,
        ...(body === undefined ? {} : { "Content-Length": String(body.length) }),
      },
      ...(options.tls?.ca ? { ca: options.tls.ca } : {}),
      ...(options.tls?.servername ? { servername: options.tls.servername } : {}),
      // One connection per request, like a fresh client: no idle socket outlives a port-forward.
      agent: false,
    });
    // Whatever ends the exchange first settles it: after a destroy, a response that had started may only
    // close, without an error.
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    const timer = setTimeout(() => {
      const error = Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), {
        code: "ETIMEDOUT",
      });
      fail(error);
      req.destroy(error);
    }, options.timeoutMs);
    req.on("error", fail);
    req.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", fail);
      response.on("end", () => {
        clearTimeout(timer);
        const headers = response.headers;
        resolve({
          status: response.statusCode ?? 0,
          url,
          header: (name) => {
            const value = headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(", ") : value;
          },
          body: Buffer.concat(chunks),
        });
      });
    });
    req.end(body);
  });
}
