/**
 * fetch() for a registry that serves a certificate from clouddrove's private CA, for the tests that check
 * what a client sees: Node's global fetch cannot be given a CA without a dispatcher from the undici
 * package, so this sends the request with node:https (which takes `ca` and `servername`) and hands back a
 * standard Response. (The product's registry client is src/adapters/http-exchange.ts.)
 */
import { request } from "node:https";
import { Readable } from "node:stream";

export interface TlsTrust {
  /** PEM CA certificate(s) to trust instead of the system's. */
  ca: string;
  /**
   * The name the certificate must carry, when the URL's host is another (a port-forward on 127.0.0.1
   * reaches the pod whose certificate names the Service): checked as curl --resolve would.
   */
  servername?: string;
}

/** Statuses whose Response may not have a body (the fetch standard's null body statuses). */
const NULL_BODY = new Set([101, 204, 205, 304]);

export function fetchTrusting(trust: TlsTrust): typeof fetch {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      const headers = Object.fromEntries(new Headers(init.headers).entries());
      const body = init.body as Uint8Array | string | null | undefined;
      const req = request(
        url,
        {
          method: init.method ?? "GET",
          headers,
          ca: trust.ca,
          ...(trust.servername ? { servername: trust.servername } : {}),
          signal: init.signal ?? undefined,
          // One connection per request, like a fresh client: no idle socket outlives the port-forward.
          agent: false,
        },
        (res) => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined)
              responseHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
          }
          const status = res.statusCode ?? 0;
          const stream = NULL_BODY.has(status) ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
          if (stream === null) res.resume();
          resolve(new Response(stream, { status, statusText: res.statusMessage, headers: responseHeaders }));
        },
      );
      req.on("error", reject);
      req.end(body ?? undefined);
    });
}
