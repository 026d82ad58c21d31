/** Ports for the sandbox's registry processes come from below the ephemeral range and are free. */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ephemeralPortRange, freePort } from "../../src/runtime/ports.js";

function listenOn(port: number): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(() => new Promise((done) => server.close(() => done()))));
  });
}

describe("freePort", () => {
  it("picks ports below the kernel's ephemeral range that can be bound", async () => {
    const [low, high] = ephemeralPortRange();
    expect(low).toBeLessThan(high);
    const ports = await Promise.all(Array.from({ length: 40 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(low);
    }
    // Random, not sequential: forty picks are not one port.
    expect(new Set(ports).size).toBeGreaterThan(30);
    const close = await listenOn(ports[0] as number);
    await close();
  });

  it("passes over a port something is listening on", async () => {
    const [low] = ephemeralPortRange();
    const taken = await freePort();
    const close = await listenOn(taken);
    try {
      // The first pick lands on the taken port, the second on the one above it.
      const picks = [taken, taken + 1].map((port) => (port - 10_000 + 0.5) / (low - 10_000));
      expect(await freePort(() => picks.shift() ?? Math.random())).toBe(taken + 1);
    } finally {
      await close();
    }
  });
});
