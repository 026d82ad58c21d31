// src/adapters/http-exchange.ts: one request, its whole answer, and a deadline for the whole exchange.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { exchange } from "../../src/adapters/http-exchange.js";

let server: Server | undefined;

async function serve(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
}

async function stop(): Promise<void> {
  const running = server;
  server = undefined;
  if (!running) return;
  running.closeAllConnections();
  await new Promise((resolve) => running.close(resolve));
}

afterEach(stop);

describe("exchange", () => {
  it("sends the method, headers and body, and answers with the status, headers and whole body", async () => {
    const base = await serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk) => chunks.push(chunk));
      req.on("end", () => {
        res.setHeader("Docker-Content-Digest", "sha256:abc");
        res.setHeader("Set-Cookie", ["a=1", "b=2"]);
        res.statusCode = 201;
        res.end(`${req.method} ${req.url} ${req.headers["x-test"]} ${Buffer.concat(chunks).toString()}`);
      });
    });
    const answer = await exchange(new URL("/v2/x?y=1", base), {
      method: "PUT",
      headers: { "X-Test": "yes" },
      body: "payload",
      timeoutMs: 5_000,
    });
    expect(answer.status).toBe(201);
    expect(answer.header("docker-content-digest")).toBe("sha256:abc");
    expect(answer.header("Docker-Content-Digest")).toBe("sha256:abc");
    expect(answer.header("set-cookie")).toBe("a=1, b=2");
    expect(answer.header("location")).toBeUndefined();
    expect(answer.body.toString()).toBe("PUT /v2/x?y=1 yes payload");
    expect(answer.url.pathname).toBe("/v2/x");
  });

  it("ends an exchange that does not finish in time with ETIMEDOUT", async () => {
    const base = await serve((_req, res) => {
      // Headers, then silence: the deadline covers the whole answer, not only its start.
      res.writeHead(200);
      res.write("partial");
    });
    await expect(exchange(base, { timeoutMs: 200 })).rejects.toMatchObject({ code: "ETIMEDOUT" });
  });

  it("rejects with the socket's error when nothing listens", async () => {
    const base = await serve((_req, res) => res.end());
    const closed = new URL(base);
    await stop();
    await expect(exchange(closed, { timeoutMs: 5_000 })).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
