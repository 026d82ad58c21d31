/**
 * pods/portforward over WebSocket, as the kubelet serves it to @kubernetes/client-node's PortForward
 * (and to kubectl's websocket port-forward with the channel protocol): subprotocol v4.channel.k8s.io,
 * every binary frame prefixed with its channel byte; for the i-th requested port, channel 2i carries the
 * data and 2i+1 the errors, and the first frame the server sends on each of the two carries the port
 * number as 2 little-endian bytes. Each WebSocket is one TCP connection to the pod's port, which here is
 * the real process's port on 127.0.0.1.
 */
import type { IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { KubeObject } from "../types.js";

/** Binary framing is the same in all of these; v5 adds a close signal this server does not need. */
const PROTOCOLS = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"];

const PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/;

export interface PortForwardOptions {
  getPod(namespace: string, name: string): KubeObject | undefined;
  /** Where the pod's real process listens on the host for a container port (undefined: nothing does). */
  hostPort(namespace: string, name: string, containerPort: number): Promise<number | undefined>;
}

/** Answers an upgrade request with a Status error instead of switching protocols. */
export function refuseUpgrade(socket: Duplex, code: number, reason: string, message: string): void {
  const body = JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  });
  const status = { 400: "Bad Request", 401: "Unauthorized", 404: "Not Found" }[code] ?? "Error";
  socket.end(
    `HTTP/1.1 ${code} ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** True when the path is the portforward subresource (the only upgrade the sandbox serves). */
export function isPortForwardPath(pathname: string): boolean {
  return PATH.test(pathname);
}

export interface PortForwardHandler {
  /** Handles an authenticated upgrade request (anything but pods/portforward is refused). */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every forwarding connection. */
  close(): void;
}

export function createPortForwardHandler(options: PortForwardOptions): PortForwardHandler {
  const server = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  const handle = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const checked = checkRequest(req, options);
    if ("refusal" in checked) {
      const { code, reason, message } = checked.refusal;
      refuseUpgrade(socket, code, reason, message);
    } else {
      server.handleUpgrade(req, socket, head, (ws) => forward(ws, checked.pod, checked.ports, options));
    }
  };
  return {
    handle,
    close() {
      for (const client of server.clients) client.terminate();
      server.close();
    },
  };
}

type Checked =
  | { pod: KubeObject; ports: number[] }
  | { refusal: { code: number; reason: string; message: string } };

/** The pod and ports a portforward request names, or why it is refused (what the API server answers). */
function checkRequest(req: IncomingMessage, options: PortForwardOptions): Checked {
  const url = new URL(req.url ?? "/", "http://sandbox");
  const match = PATH.exec(url.pathname);
  if (!match) {
    return {
      refusal: { code: 404, reason: "NotFound", message: "the server could not find the requested resource" },
    };
  }
  const name = decodeURIComponent(match[2]!);
  const pod = options.getPod(decodeURIComponent(match[1]!), name);
  if (!pod) return { refusal: { code: 404, reason: "NotFound", message: `pods "${name}" not found` } };
  // kubectl (1.30+) tunnels SPDY through a WebSocket ("SPDY/3.1+portforward.k8s.io") or upgrades to SPDY
  // and names the ports in stream headers; the sandbox speaks only the channel protocol.
  const offered = String(req.headers["sec-websocket-protocol"] ?? "").split(",");
  if (!offered.some((p) => PROTOCOLS.includes(p.trim()))) {
    const message = `the clouddrove sandbox serves port-forward only over the WebSocket channel protocol (${PROTOCOLS.join(", ")}), as @kubernetes/client-node speaks it; kubectl's SPDY port-forward is not supported`;
    return { refusal: { code: 400, reason: "BadRequest", message } };
  }
  const given = url.searchParams
    .getAll("ports")
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter((value) => value !== "");
  const ports = given.map(Number);
  if (ports.length === 0 || ports.some((n) => !Number.isInteger(n) || n < 1 || n > 65535)) {
    const message = `invalid port specification ${JSON.stringify(given.join(","))}`;
    return { refusal: { code: 400, reason: "BadRequest", message } };
  }
  return { pod, ports };
}

function frame(channel: number, data: Buffer | string): Buffer {
  const payload = typeof data === "string" ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channel]), payload]);
}

function forward(ws: WebSocket, pod: KubeObject, ports: number[], options: PortForwardOptions): void {
  const namespace = pod.metadata.namespace ?? "";
  const name = pod.metadata.name;
  const upstreams = new Map<number, Socket>();
  /** What the client sent on a port's data channel before its connection to the pod was open. */
  const early = new Map<number, Buffer[]>();
  let closed = false;
  const closeAll = () => {
    closed = true;
    for (const upstream of upstreams.values()) upstream.destroy();
    if (ws.readyState === ws.OPEN) ws.close();
  };
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    const bytes = isBinary ? data : Buffer.from(data.toString());
    if (bytes.length === 0) return;
    const channel = bytes[0]!;
    // Clients send on the data channels only; what comes on another is ignored, as the kubelet does.
    if (channel % 2 !== 0) return;
    const index = channel / 2;
    const upstream = upstreams.get(index);
    if (upstream) upstream.write(bytes.subarray(1));
    else early.set(index, [...(early.get(index) ?? []), bytes.subarray(1)]);
  });
  ws.on("close", () => {
    closed = true;
    for (const upstream of upstreams.values()) upstream.destroy();
  });
  ws.on("error", () => closeAll());
  ports.forEach((port, index) => {
    const portBytes = Buffer.from([port & 0xff, (port >> 8) & 0xff]);
    ws.send(frame(2 * index, portBytes));
    ws.send(frame(2 * index + 1, portBytes));
  });
  ports.forEach(async (port, index) => {
    const fail = (reason: string) => {
      if (ws.readyState === ws.OPEN)
        ws.send(
          frame(
            2 * index + 1,
            `error forwarding port ${port} to pod ${name}, uid ${pod.metadata.uid}: ${reason}`,
          ),
        );
      closeAll();
    };
    const hostPort = await options.hostPort(namespace, name, port);
    if (closed) return;
    if (hostPort === undefined) {
      fail(
        `no process listens on port ${port} (the sandbox runs only registry containers as real processes)`,
      );
      return;
    }
    const upstream = connect({ host: "127.0.0.1", port: hostPort });
    upstreams.set(index, upstream);
    for (const chunk of early.get(index) ?? []) upstream.write(chunk);
    early.delete(index);
    upstream.on("data", (chunk: Buffer) => {
      if (ws.readyState === ws.OPEN) ws.send(frame(2 * index, chunk));
    });
    upstream.on("error", (error) => fail(error.message));
    upstream.on("close", closeAll);
  });
}
