/**
 * A local TCP port forwarded to a pod's port through the API server's pods/portforward subresource over
 * WebSocket (subprotocol v4.channel.k8s.io, served by API servers since Kubernetes 1.31): every binary
 * frame starts with its channel byte — 0 for the port's data, 1 for its errors —
 * and each channel's first frame from the server is the port number (2 bytes, little endian). One
 * WebSocket per local connection, as kubectl opens one stream pair per connection. Port-forwarded traffic
 * enters the pod through the kubelet, so it reaches the registry where the NetworkPolicy admits nothing
 * from outside the namespace.
 */
import { createServer, type Socket } from "node:net";
import type { Kube } from "./kube.js";

export interface PortForwardHandle {
  localPort: number;
  /** What the kubelet said on the error channel, e.g. "error forwarding port 5000 to pod ...: ...". */
  errors(): string[];
  close(): Promise<void>;
}

const DATA = 0;
const ERROR = 1;

export async function openPortForward(
  kube: Kube,
  namespace: string,
  pod: string,
  port: number,
): Promise<PortForwardHandle> {
  const { http } = kube;
  const { default: WebSocket } = await import("ws");
  const errors: string[] = [];
  const sockets = new Set<Socket>();
  const target = new URL(
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/portforward?ports=${port}`,
    http.access.server.replace(/^http/, "ws"),
  );

  const connect = async (socket: Socket) => {
    const credentials = await http.credentials();
    const ws = new WebSocket(target, ["v4.channel.k8s.io"], {
      ...http.tlsOptions(credentials),
      headers: http.headers(credentials),
    });
    // The first frame of each channel names the port; only what follows is data or an error.
    const seen = new Set<number>();
    const early: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => {
      const framed = Buffer.concat([Buffer.from([DATA]), chunk]);
      if (ws.readyState === WebSocket.OPEN) ws.send(framed);
      else early.push(framed);
    });
    socket.on("close", () => ws.close());
    ws.on("open", () => {
      for (const framed of early.splice(0)) ws.send(framed);
    });
    ws.on("message", (message: Buffer, isBinary: boolean) => {
      const bytes = isBinary ? message : Buffer.from(message);
      const channel = bytes[0];
      if (channel === undefined) return;
      if (!seen.has(channel)) {
        seen.add(channel);
        return;
      }
      const payload = bytes.subarray(1);
      if (channel === DATA) socket.write(payload);
      else if (channel === ERROR && payload.length > 0) errors.push(payload.toString("utf8").trim());
    });
    ws.on("unexpected-response", (_request, response) => {
      errors.push(`the API server refused the port-forward: HTTP ${response.statusCode}`);
      socket.destroy();
    });
    ws.on("error", (error: Error) => {
      errors.push(error.message);
      socket.destroy();
    });
    // The far side went (pod gone, forward refused): end the local connection too, so a caller reading
    // from it gets EOF at once instead of waiting for its own timeout.
    ws.on("close", () => socket.end());
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // A client that resets its connection (a TLS client closing at once after its answer) must not
    // become an uncaught error: the connection is over, and so is its stream.
    socket.on("error", () => socket.destroy());
    connect(socket).catch((error: unknown) => {
      errors.push(error instanceof Error ? error.message : String(error));
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  return {
    localPort: typeof address === "object" && address ? address.port : 0,
    errors: () => [...errors],
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
