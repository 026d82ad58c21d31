/**
 * A local TCP port that forwards to a pod's port through the API server (the pods/portforward
 * subresource, as `kubectl port-forward` does). Each local connection gets its own forwarding stream.
 * Port-forwarded traffic enters the pod through the kubelet, so it reaches the registry even where the
 * NetworkPolicy admits nothing from outside the namespace.
 */
import { createServer, type Socket } from "node:net";
import type { Kube } from "./kube.js";

export interface PortForwardHandle {
  localPort: number;
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
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    forwarder.portForward(namespace, pod, [port], socket, null, socket).then(
      (ws) => {
        const close = () => {
          const w = typeof ws === "function" ? ws() : ws;
          w?.close();
        };
        socket.on("close", close);
      },
      () => socket.destroy(),
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
