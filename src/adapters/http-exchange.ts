/**
 * One HTTP(S) request and its whole answer, on Node's own http/https — not the global fetch. Node's fetch
 * is undici, compiled on first use together with its WebAssembly HTTP parser: about 35 MiB of resident
 * memory and half a second of a short command (measured on a no-op deploy's smoke test), for a few small
 * requests to the registry. node:https also takes a CA to trust per request, which the registry's
 * private certificate authority needs.
 */
import http from "node:http";
import https from "node:https";

export interface Exchange {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Ends the request when the whole exchange has not finished in this time. */
  timeoutMs: number;
  /** PEM of the certificate authorities to trust for https (the system's when not given). */
  ca?: string;
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
      ...(options.ca ? { ca: options.ca } : {}),
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
