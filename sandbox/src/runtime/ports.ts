/**
 * Ports for the sandbox's registry processes, which bind them a moment after they are chosen, and for its
 * load balancers, whose address should survive a restart.
 *
 * A port found with listen(0) comes from the kernel's ephemeral range, which is also where every outgoing
 * connection on the machine gets its local port: between the check and the process's own bind, a probe,
 * a watch or a test's HTTP client may take it, and the registry then exits with "address already in use"
 * (a rare failure, more likely the busier the machine). Below the ephemeral range only explicit binds
 * compete, and a random pick there makes two of ours choosing the same port unlikely.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

const LOWEST = 10_000;
/** Linux's default, used where /proc does not say. */
const DEFAULT_EPHEMERAL: [number, number] = [32768, 60999];

export function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    return low && high ? [low, high] : DEFAULT_EPHEMERAL;
  } catch {
    return DEFAULT_EPHEMERAL;
  }
}

/**
 * A TCP port on 127.0.0.1, free when checked, outside the ephemeral range where there is room below it.
 * (`random` is for tests.)
 */
export async function freePort(random: () => number = Math.random): Promise<number> {
  const [ephemeralLow] = ephemeralPortRange();
  if (ephemeralLow - LOWEST >= 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = LOWEST + Math.floor(random() * (ephemeralLow - LOWEST));
      if ((await bindPort(port)) !== undefined) return port;
    }
  }
  const port = await bindPort(0);
  if (port === undefined) throw new Error("no free TCP port on 127.0.0.1");
  return port;
}

/** Binds `port` (0: any) on 127.0.0.1 and releases it; the port bound, or undefined when it is taken. */
function bindPort(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}
