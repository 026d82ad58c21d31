/**
 * The cloud load balancer of a Service of type LoadBalancer whose pods run for real: a TCP proxy on
 * 127.0.0.1 per Service port that forwards each new connection to a ready endpoint's process — round
 * robin, or the same endpoint for the same client address under `sessionAffinity: ClientIP` (here every
 * client is 127.0.0.1, so affinity keeps them all on one replica, as it would keep one client). An
 * endpoint that is not ready, or is terminating, gets no new connections; open ones go on.
 *
 * A Service port listed in service.beta.kubernetes.io/aws-load-balancer-ssl-ports, with an ACM
 * certificate of the sandbox's in aws-load-balancer-ssl-cert, is a TLS listener as an NLB makes it: the
 * proxy terminates TLS with that certificate and forwards plain TCP to the pods (backend protocol tcp).
 * Every other port passes TLS through untouched.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";
import type { KubeObject, SandboxClock } from "../types.js";
import { freePort } from "./ports.js";

// biome-ignore lint/suspicious/noExplicitAny: Service specs are plain JSON
type Json = any;

export interface Backend {
  namespace: string | undefined;
  pod: string;
  /** The container port this Service port reaches on that pod. */
  containerPort: number;
}

/** What the proxy publishes as the Service's status.loadBalancer.ingress. */
export interface LoadBalancerAddress {
  ip: string;
  ports: Array<{ port: number; protocol: "TCP" }>;
}

interface Listener {
  servicePort: number;
  server: Server;
  port: number;
  next: number;
}

interface Balancer {
  uid: string;
  listeners: Map<number, Listener>;
  /** Service port -> its ready endpoints, as of the latest sync. */
  backends: Map<number, Backend[]>;
  affinity: Map<string, { backend: string; until: number }>;
  affinityMs: number | undefined;
  sockets: Set<Socket>;
  opening?: Promise<void>;
  published?: string;
  /** Service port -> the TLS the listener terminates (ports listed in ssl-ports, with a known certificate). */
  tls: Map<number, SecureContext>;
}

const backendKey = (b: Backend) => `${b.namespace}/${b.pod}:${b.containerPort}`;

export interface LoadBalancerOptions {
  clock: SandboxClock;
  /** Where a pod's process listens on the host for a container port (undefined: nothing does). */
  hostPort(namespace: string | undefined, pod: string, containerPort: number): number | undefined;
  /** Writes the address into the Service's status (called once the listeners are open, and when it changes). */
  publish(service: KubeObject, address: LoadBalancerAddress): void;
  /** The certificate and key of an ACM ARN (the sandbox's ACM stand-in); undefined when it has none. */
  tlsCertificate?(arn: string): { certificate: string; key: string } | undefined;
}

const SSL_CERT = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert";
const SSL_PORTS = "service.beta.kubernetes.io/aws-load-balancer-ssl-ports";

export class LoadBalancers {
  private readonly balancers = new Map<string, Balancer>();
  private closed = false;

  constructor(private readonly options: LoadBalancerOptions) {}

  has(serviceKey: string): boolean {
    return this.balancers.has(serviceKey);
  }

  /**
   * Brings the proxy of a LoadBalancer Service up to date: its listeners (one per Service port) and, per
   * port, the ready endpoints. `backends` maps each Service port to its ready endpoints.
   */
  sync(service: KubeObject, backends: Map<number, Backend[]>): void {
    if (this.closed) return;
    const key = `${service.metadata.namespace}/${service.metadata.name}`;
    let balancer = this.balancers.get(key);
    if (balancer && balancer.uid !== service.metadata.uid) {
      this.remove(key);
      balancer = undefined;
    }
    const affinity = service.spec?.sessionAffinity === "ClientIP";
    const affinityMs = affinity
      ? Number(service.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10_800) * 1000
      : undefined;
    if (balancer === undefined) {
      balancer = {
        uid: service.metadata.uid ?? "",
        listeners: new Map(),
        backends,
        affinity: new Map(),
        affinityMs,
        sockets: new Set(),
        tls: new Map(),
      };
      this.balancers.set(key, balancer);
    }
    balancer.tls = this.terminatedPorts(service);
    balancer.backends = backends;
    balancer.affinityMs = affinityMs;
    if (affinityMs === undefined) balancer.affinity.clear();
    const ports: number[] = (service.spec?.ports ?? [])
      .filter((p: Json) => (p.protocol ?? "TCP") === "TCP")
      .map((p: Json) => Number(p.port));
    for (const [port, listener] of balancer.listeners) {
      if (!ports.includes(port)) {
        listener.server.close();
        balancer.listeners.delete(port);
      }
    }
    const missing = ports.filter((port) => !balancer.listeners.has(port));
    const current = balancer;
    if (missing.length > 0 && current.opening === undefined) {
      const published = publishedPorts(service, ports);
      current.opening = Promise.all(missing.map((port) => this.listen(current, port, published.get(port))))
        .then(() => {
          current.opening = undefined;
          if (this.balancers.get(key) === current) this.publish(service, current);
        })
        .catch(() => {
          current.opening = undefined;
        });
    } else if (missing.length === 0) {
      this.publish(service, current);
    }
  }

  /** The ports whose listener terminates TLS, as the Service's ACM annotations ask (ports or their names, or "*"). */
  private terminatedPorts(service: KubeObject): Map<number, SecureContext> {
    const result = new Map<number, SecureContext>();
    const annotations = service.metadata.annotations ?? {};
    const material = annotations[SSL_CERT] ? this.options.tlsCertificate?.(annotations[SSL_CERT]) : undefined;
    if (!material) return result;
    const listed = String(annotations[SSL_PORTS] ?? "*")
      .split(",")
      .map((p) => p.trim());
    const context = createSecureContext({ cert: material.certificate, key: material.key });
    for (const port of service.spec?.ports ?? []) {
      if (listed.includes("*") || listed.includes(String(port.port)) || listed.includes(port.name)) {
        result.set(Number(port.port), context);
      }
    }
    return result;
  }

  /** Closes the proxy of a Service that is gone or no longer of type LoadBalancer. */
  remove(serviceKey: string): void {
    const balancer = this.balancers.get(serviceKey);
    if (!balancer) return;
    this.balancers.delete(serviceKey);
    for (const listener of balancer.listeners.values()) listener.server.close();
    for (const socket of balancer.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.closed = true;
    const waits: Promise<void>[] = [];
    for (const [key, balancer] of this.balancers) {
      for (const listener of balancer.listeners.values())
        waits.push(new Promise((resolve) => listener.server.close(() => resolve())));
      this.remove(key);
    }
    await Promise.all(waits);
  }

  private publish(service: KubeObject, balancer: Balancer): void {
    // In the order of the Service's ports: clouddrove reads ports[0] as the registry's.
    const ports = (service.spec?.ports ?? [])
      .map((p: Json) => balancer.listeners.get(Number(p.port)))
      .filter((l: Listener | undefined): l is Listener => l !== undefined)
      .map((l: Listener) => ({ port: l.port, protocol: "TCP" as const }));
    const address: LoadBalancerAddress = { ip: "127.0.0.1", ports };
    const text = JSON.stringify(address);
    if (balancer.published === text) return;
    balancer.published = text;
    this.options.publish(service, address);
  }

  /**
   * Opens the listener of one Service port, on the port it had before when there is one (a sandbox that
   * starts again keeps its load balancer's address, as a real one would), else on a free port below the
   * ephemeral range (see ports.ts: there no outgoing connection takes it while the sandbox is stopped, so
   * the address survives a restart), else on any free port.
   */
  private async listen(balancer: Balancer, servicePort: number, preferred?: number): Promise<void> {
    // A preferred port taken by now means a new address, as when a real load balancer is replaced.
    if (preferred !== undefined && (await this.tryListenOn(balancer, servicePort, preferred))) return;
    if (await this.tryListenOn(balancer, servicePort, await freePort())) return;
    await this.listenOn(balancer, servicePort, 0);
  }

  private tryListenOn(balancer: Balancer, servicePort: number, hostPort: number): Promise<boolean> {
    return this.listenOn(balancer, servicePort, hostPort).then(
      () => true,
      () => false,
    );
  }

  private listenOn(balancer: Balancer, servicePort: number, hostPort: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((client) => this.forward(balancer, listener, client));
      const listener: Listener = { servicePort, server, port: 0, next: 0 };
      server.once("error", reject);
      server.listen(hostPort, "127.0.0.1", () => {
        const address = server.address();
        listener.port = typeof address === "object" && address ? address.port : 0;
        if (this.closed || !this.isLive(balancer)) {
          server.close();
          resolve();
          return;
        }
        balancer.listeners.set(servicePort, listener);
        resolve();
      });
    });
  }

  private isLive(balancer: Balancer): boolean {
    return [...this.balancers.values()].includes(balancer);
  }

  /** The backends to try for a new connection, the preferred one first. */
  private candidates(balancer: Balancer, listener: Listener, client: string): Backend[] {
    const backends = balancer.backends.get(listener.servicePort) ?? [];
    if (backends.length === 0) return [];
    const now = this.options.clock.now();
    if (balancer.affinityMs !== undefined) {
      const pinned = balancer.affinity.get(client);
      const match =
        pinned && pinned.until > now ? backends.find((b) => backendKey(b) === pinned.backend) : undefined;
      if (match) return [match, ...backends.filter((b) => b !== match)];
    }
    const start = listener.next++ % backends.length;
    return [...backends.slice(start), ...backends.slice(0, start)];
  }

  private forward(balancer: Balancer, listener: Listener, socket: Socket): void {
    // A TLS listener: the client's TLS ends here, the pods get what it carried.
    const context = balancer.tls.get(listener.servicePort);
    const client = context ? new TLSSocket(socket, { isServer: true, secureContext: context }) : socket;
    if (context) {
      socket.on("error", () => socket.destroy());
      socket.on("close", () => client.destroy());
      client.on("close", () => socket.destroy());
    }
    balancer.sockets.add(client);
    client.on("close", () => balancer.sockets.delete(client));
    client.on("error", () => client.destroy());
    const clientIP = client.remoteAddress ?? "";
    const queue = this.candidates(balancer, listener, clientIP);
    const attempt = () => {
      const backend = queue.shift();
      if (backend === undefined) {
        client.destroy();
        return;
      }
      const port = this.options.hostPort(backend.namespace, backend.pod, backend.containerPort);
      if (port === undefined) {
        attempt();
        return;
      }
      const upstream = connect({ host: "127.0.0.1", port });
      upstream.once("error", () => {
        upstream.destroy();
        attempt();
      });
      upstream.once("connect", () => {
        upstream.removeAllListeners("error");
        upstream.on("error", () => client.destroy());
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
        balancer.sockets.add(upstream);
        upstream.on("close", () => balancer.sockets.delete(upstream));
        if (balancer.affinityMs !== undefined) {
          balancer.affinity.set(clientIP, {
            backend: backendKey(backend),
            until: this.options.clock.now() + balancer.affinityMs,
          });
        }
        client.pipe(upstream);
        upstream.pipe(client);
      });
    };
    attempt();
  }
}

/** Service port -> the proxy port the Service's status already publishes for it (same order as spec.ports). */
function publishedPorts(service: KubeObject, ports: number[]): Map<number, number> {
  const ingress = service.status?.loadBalancer?.ingress?.[0];
  const published: Json[] = ingress?.ip === "127.0.0.1" ? (ingress.ports ?? []) : [];
  const result = new Map<number, number>();
  for (const [index, port] of ports.entries()) {
    const hostPort = Number(published[index]?.port);
    if (Number.isInteger(hostPort) && hostPort > 0) result.set(port, hostPort);
  }
  return result;
}
