/**
 * The sandbox's real runtime: registry pods run the real registry binary (registry:2.x Debian's
 * docker-registry, Distribution 2.8.2; registry:3.x Distribution v3.0.0 built by scripts/components.sh,
 * see registry-binaries.ts) with their volumes, env and config; the backup and restore Jobs' containers run
 * their real scripts with the host's sh, rclone and tar against the sandbox's S3, and the node-trust
 * DaemonSet's install-ca.sh writes each node's containerd certs.d (script-launch.ts); LoadBalancer Services in front of them get a
 * TCP proxy on 127.0.0.1; pods/portforward reaches their processes; pods/log serves what they wrote.
 * Everything else in the sandbox stays simulated. The simulated controllers call in through small hooks:
 * the kubelet (processes), the service controller (loadBalancers), the API server (portForward, podLog).
 */
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import type { SandboxS3 } from "../s3.js";
import type { ObjectStore, SandboxClock } from "../types.js";
import { type LoadBalancerOptions, LoadBalancers } from "./load-balancer.js";
import { createPortForwardHandler } from "./port-forward.js";
import { findExecutable, PodProcesses, REGISTRY_BINARY, SCRIPT_TOOLS } from "./processes.js";
import { distributionBinaryPath } from "./registry-binaries.js";

export { registryMajor } from "./image.js";
export type { Backend, LoadBalancerAddress } from "./load-balancer.js";
export { LoadBalancers } from "./load-balancer.js";
export { refuseUpgrade } from "./port-forward.js";
export { type ContainerExit, type EventFn, PodProcesses, realContainer } from "./processes.js";

export interface SandboxRuntimeOptions {
  store: ObjectStore;
  clock: SandboxClock;
  /** The sandbox's state directory: volumes then live in <stateDir>/volumes and outlive the sandbox. */
  stateDir?: string;
  /** The 2.x registry binary (default: docker-registry found on PATH). */
  binary?: string;
  /** Distribution v3's registry binary (default: where scripts/components.sh builds it). */
  v3Binary?: string;
  /** The sandbox's S3: script containers (the backup Jobs) get its endpoint and keys. */
  s3?: SandboxS3;
  /** An ACM certificate of the sandbox's (PEM certificate and key), for a load balancer's TLS listener. */
  acmCertificate?: LoadBalancerOptions["tlsCertificate"];
}

export interface SandboxRuntime {
  /** Where volume data lives (see layout.ts). */
  readonly dataDir: string;
  /**
   * False when the 2.x registry binary is not installed: then every pod stays simulated. (A missing v3
   * binary fails only the registry:3.x containers.)
   */
  readonly available: boolean;
  readonly processes: PodProcesses;
  /** Created by the service controller hook (it publishes the address through the store). */
  createLoadBalancers(publish: LoadBalancerOptions["publish"]): LoadBalancers;
  /** Handles an authenticated upgrade request: `pods/portforward` to a real process, else refused. */
  portForward(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** What a real container wrote, for pods/log; undefined for simulated containers. */
  podLog(namespace: string, name: string, query: URLSearchParams): string | undefined;
  /** Stops every process and proxy; removes the data directory when it was temporary. */
  stop(): Promise<void>;
}

export async function startSandboxRuntime(options: SandboxRuntimeOptions): Promise<SandboxRuntime> {
  const temporary = options.stateDir === undefined;
  const dataDir = options.stateDir
    ? join(options.stateDir, "volumes")
    : await mkdtemp(join(tmpdir(), "clouddrove-sandbox-volumes-"));
  // A temporary data directory also goes when this process exits without stopping the sandbox.
  const removeOnExit = () => rmSync(dataDir, { recursive: true, force: true });
  if (temporary) process.once("exit", removeOnExit);
  const binary = options.binary ?? findExecutable(REGISTRY_BINARY);
  const shell = findExecutable("sh");
  const scriptTools = new Set(SCRIPT_TOOLS.filter((tool) => findExecutable(tool) !== undefined));
  const processes = new PodProcesses({
    store: options.store,
    clock: options.clock,
    dataDir,
    binary,
    v3Binary: options.v3Binary ?? distributionBinaryPath(),
    shell,
    scriptTools,
    s3: options.s3,
  });
  await processes.pruneOrphans();
  const balancers: LoadBalancers[] = [];
  const portForward = createPortForwardHandler({
    getPod: (namespace, name) => options.store.get("Pod", namespace, name),
    hostPort: (namespace, name, port) => processes.waitForHostPort(namespace, name, port),
  });
  return {
    dataDir,
    available: binary !== undefined,
    processes,
    createLoadBalancers(publish) {
      const created = new LoadBalancers({
        clock: options.clock,
        hostPort: (namespace, pod, port) => processes.hostPort(namespace, pod, port),
        publish,
        tlsCertificate: options.acmCertificate,
      });
      balancers.push(created);
      return created;
    },
    portForward: (req, socket, head) => portForward.handle(req, socket, head),
    podLog(namespace, name, query) {
      const tail = query.get("tailLines");
      return processes.logs(namespace, name, {
        container: query.get("container") ?? undefined,
        previous: query.get("previous") === "true",
        tailLines: tail !== null && /^\d+$/.test(tail) ? Number(tail) : undefined,
      });
    },
    async stop() {
      portForward.close();
      await Promise.all(balancers.map((b) => b.close()));
      await processes.stop();
      if (temporary) {
        process.removeListener("exit", removeOnExit);
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}
