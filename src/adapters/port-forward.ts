/**
 * A local TCP port that forwards to a pod's port through the API server (the pods/portforward
 * subresource, as `kubectl port-forward` does). Each local connection gets its own forwarding stream.
 * Port-forwarded traffic enters the pod through the kubelet, so it reaches the registry even where the
 * NetworkPolicy admits nothing from outside the namespace.
 */
import { createServer, type Socket } from "node:net";
import { Writable } from "node:stream";
import type { Kube } from "./kube.js";

export interface PortForwardHandle {
  localPort: number;
  /** What the kubelet said on the error channel, e.g. "error forwarding port 5000 to pod ...: ...". */
  errors(): string[];
  close(): Promise<void>;
}

export async function openPortForward(
  kube: Kube,
  namespace: string,
  pod: string,
  port: number,
): Promise<PortForwardHandle> {
  const { PortForward } = await import("@kubernetes/client-node");
  const forwarder = new PortForward(kube.config, true);
  const sockets = new Set<Socket>();
  const errors: string[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const errorChannel = new Writable({
      write(chunk, _encoding, done) {
        const text = String(chunk).trim();
        if (text) errors.push(text);
        done();
      },
    });
    forwarder.portForward(namespace, pod, [port], socket, errorChannel, socket).then(
      (ws) => {
        const w = typeof ws === "function" ? ws() : ws;
        socket.on("close", () => w?.close());
        // When the far side goes (pod gone, forward refused), end the local connection too, so a caller
        // reading from it gets EOF at once instead of waiting for its own timeout.
        w?.on("close", () => socket.end());
      },
      (error: unknown) => {
        errors.push(error instanceof Error ? error.message : String(error));
        socket.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const localPort = typeof address === "object" && address ? address.port : 0;
  return {
    localPort,
    errors: () => [...errors],
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
