/**
 * startSandbox: a simulated EKS-like cluster in this process — the object store, the API server on
 * 127.0.0.1, the clock, and the simulated controllers (scheduler, kubelet, workload controllers) — with
 * its state loaded from and saved to a directory when one is given — and the AWS endpoint (aws/) that
 * answers for the cluster's EKS, EC2, EFS and STS side.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createSelfSignedCertificate, isUsableKey } from "./api/certificate.js";
import type { AwsContext } from "./aws/context.js";
import { type AwsEndpoint, startAwsEndpoint } from "./aws/server.js";
import { type AwsAccountState, newAccountState, restoredAccount, seedAccount } from "./aws/state.js";
import { type Clock, createClock, isManualClock } from "./clock.js";
import {
  CLUSTER_INFO,
  clusterInfo,
  type RunningControllers,
  seedCluster,
  startControllers,
} from "./controllers/index.js";
import { FaultInjector } from "./faults.js";
import { kubeconfigYaml, SANDBOX_CONTEXT, writeKubeconfigFile } from "./kubeconfig.js";
import { claimOwnership, type OwnerRecord, releaseOwnership } from "./lifecycle/owner.js";
import { loadState, STATE_FORMAT, saveState } from "./persist.js";
import { type SandboxRuntime, startSandboxRuntime } from "./runtime/index.js";
import { useAccessPointRoots } from "./runtime/layout.js";
import { startSandboxS3 } from "./s3.js";
import { type ApiServer, startApiServer } from "./server.js";
import { MemoryStore } from "./store.js";

export interface SandboxOptions {
  /** Worker nodes to seed (default 3), round-robin over the zones. */
  nodes?: number;
  /** Availability zones (default the region's a, b, c). */
  zones?: string[];
  region?: string;
  /** API server port (default: any free port). */
  port?: number;
  /** The AWS endpoint's port (default: any free port). */
  awsPort?: number;
  /** The EKS cluster's name as the sandbox's AWS endpoint reports it (default "clouddrove"). */
  clusterName?: string;
  /** Simulated ms per real ms (default 1); ignored with manualClock. */
  speed?: number;
  /** Load state from here when present; save() and stop() write it back. */
  stateDir?: string;
  /** Control-plane and kubelet minor version, e.g. "1.33" (default). */
  kubernetesVersion?: string;
  /** Run the simulated controllers and seed the cluster (default true). */
  controllers?: boolean;
  /** Time moves only when the test calls clock.advance(ms). */
  manualClock?: boolean;
  /** Change events kept per kind for watches from an older resourceVersion. */
  historyLimit?: number;
  /**
   * Run registry pods as real `docker-registry` processes, with a real TCP proxy for their LoadBalancer
   * Service and a real pods/portforward (default true; needs the controllers and the binary on PATH).
   */
  runtime?: boolean;
  /**
   * Distribution v3's registry binary for registry:3.x pods (default: where scripts/components.sh builds
   * it; see runtime/registry-binaries.ts).
   */
  registryV3Binary?: string;
  /**
   * Who serves the state directory: one process at a time owns it (sandbox.json). Default "foreground";
   * the daemon that `up` starts says "daemon".
   */
  ownerMode?: OwnerRecord["mode"];
}

/** Where the sandbox's AWS endpoint is and the static credentials it accepts. */
export interface SandboxAws {
  /** e.g. http://127.0.0.1:41235 — STS, EC2, EKS and EFS answer here. */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The sandbox's S3 (same keys), when it runs one. */
  s3Endpoint?: string;
}

/**
 * The environment that points AWS SDK clients (and the AWS CLI) at the sandbox: its endpoint for the
 * services it serves, its static credentials and region. AWS_PROFILE and AWS_SESSION_TOKEN are set to
 * undefined: merged over an environment, they remove a profile or a session token that would otherwise
 * be used instead of (or signed along with) the sandbox's key.
 */
export function awsEnvironment(aws: SandboxAws): Record<string, string | undefined> {
  return {
    AWS_ENDPOINT_URL_STS: aws.endpoint,
    AWS_ENDPOINT_URL_EC2: aws.endpoint,
    AWS_ENDPOINT_URL_EKS: aws.endpoint,
    AWS_ENDPOINT_URL_EFS: aws.endpoint,
    AWS_ENDPOINT_URL_ACM: aws.endpoint,
    AWS_ENDPOINT_URL_IAM: aws.endpoint,
    ...(aws.s3Endpoint ? { AWS_ENDPOINT_URL_S3: aws.s3Endpoint } : {}),
    AWS_ACCESS_KEY_ID: aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
    AWS_REGION: aws.region,
    AWS_DEFAULT_REGION: aws.region,
    AWS_PROFILE: undefined,
    AWS_SESSION_TOKEN: undefined,
  };
}

export interface Sandbox {
  /** The API server, e.g. https://127.0.0.1:41234 */
  readonly url: string;
  /** The bearer token the server accepts. */
  readonly token: string;
  /** PEM of the server's self-signed certificate (trust it as the CA). */
  readonly certificate: string;
  readonly store: MemoryStore;
  readonly clock: Clock;
  readonly faults: FaultInjector;
  /** The control plane's minor now (an EKS control-plane upgrade through the AWS endpoint changes it). */
  readonly kubernetesVersion: string;
  /** The simulated controllers (undefined with controllers: false); `errors` lists what they failed at. */
  readonly controllers: RunningControllers | undefined;
  /** The real runtime (undefined with runtime: false or controllers: false). */
  readonly runtime: SandboxRuntime | undefined;
  /** The EKS cluster's name, as the AWS endpoint reports it. */
  readonly clusterName: string;
  /** The AWS endpoint (STS, EC2, EKS, EFS) and its credentials; see awsEnvironment. */
  readonly aws: SandboxAws;
  /** The sandbox's S3 on 127.0.0.1 (path-style; keys and variables: s3Environment). */
  readonly s3: { readonly endpoint: string; readonly region: string };
  /** A kubeconfig (YAML text) whose current context is the sandbox (default name clouddrove-sandbox). */
  kubeconfig(contextName?: string): string;
  /** Adds the sandbox's context to the kubeconfig file at `path` (created when missing). */
  writeKubeconfig(path: string, contextName?: string): void;
  /** Writes the state to stateDir (no-op without one). */
  save(): Promise<void>;
  /** Stops controllers, watches, the server and the clock; saves first when a stateDir was given. */
  stop(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const { stateDir } = options;
  if (stateDir === undefined) return startUnowned(options);
  // Two processes serving one state directory would each run its pods and prune the other's: claim it.
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  claimOwnership(stateDir, options.ownerMode ?? "foreground");
  try {
    const sandbox = await startUnowned(options);
    const stop = sandbox.stop;
    return { ...sandbox, stop: () => stop().finally(() => releaseOwnership(stateDir)) };
  } catch (error) {
    releaseOwnership(stateDir);
    throw error;
  }
}

async function startUnowned(options: SandboxOptions): Promise<Sandbox> {
  const region = options.region ?? "eu-west-1";
  const zones =
    options.zones && options.zones.length > 0 ? options.zones : ["a", "b", "c"].map((z) => `${region}${z}`);
  const saved = options.stateDir ? await loadState(options.stateDir) : undefined;
  const kubernetesVersion = options.kubernetesVersion ?? saved?.kubernetesVersion ?? "1.33";
  const clock = createClock({
    manual: options.manualClock ?? false,
    speed: options.speed ?? 1,
    start: saved?.clockNow,
  });
  const store = new MemoryStore({
    clock,
    historyLimit: options.historyLimit,
    bootstrap: saved === undefined,
    onListenerError: (error) =>
      process.emitWarning(
        `sandbox listener failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      ),
  });
  if (saved) store.restore({ resourceVersion: saved.resourceVersion, objects: saved.objects });
  const token = saved?.token ?? randomBytes(24).toString("hex");
  const tls = saved?.tls && isUsableKey(saved.tls.key) ? saved.tls : createSelfSignedCertificate();
  // One account for the whole AWS side: the S3 store accepts the same keys as the AWS endpoint, so one
  // environment (awsEnvironment) reaches both.
  const account: AwsAccountState = saved?.aws ? restoredAccount(saved.aws) : newAccountState();
  const s3 = await startSandboxS3({
    stateDir: options.stateDir,
    region,
    credentials: { accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey },
  });
  const useControllers = options.controllers ?? true;
  let controllers: RunningControllers | undefined;
  let runtime: SandboxRuntime | undefined;
  let forgetAccessPoints: (() => void) | undefined;
  if (useControllers) {
    if (saved === undefined)
      seedCluster(store, clock, {
        nodes: options.nodes ?? 3,
        zones,
        region,
        kubernetesVersion,
        clusterName: options.clusterName,
      });
    // Volumes live in <stateDir>/volumes when there is a stateDir, so data outlives a stop like a real
    // volume; else in a temporary directory removed at stop.
    if (options.runtime ?? true)
      runtime = await startSandboxRuntime({
        store,
        clock,
        stateDir: options.stateDir,
        s3,
        v3Binary: options.registryV3Binary,
        // The ACM stand-in's certificates, for load balancers that terminate TLS (aws/acm.ts).
        acmCertificate: (arn) => account.acmCertificates?.find((c) => c.arn === arn),
      });
    // A volume on an access point mounts the access point's root directory, as the EFS CSI driver does.
    if (runtime) {
      forgetAccessPoints = useAccessPointRoots(
        runtime.dataDir,
        (id) => account.accessPoints?.find((p) => p.AccessPointId === id)?.RootDirectory,
      );
    }
    controllers = startControllers({ store, clock, runtime });
    // A saved sandbox resumes where it paused: the registry processes its pods ran are started again
    // before anyone talks to them (bounded: a process that does not come up is the pod's own problem).
    if (saved !== undefined && runtime && !isManualClock(clock)) await runtime.processes.settled();
  }
  const faults = new FaultInjector();
  // The control plane's version is the cluster record's: an EKS control-plane upgrade changes it there
  // (and so in the saved state). Without the record (no controllers), the version the sandbox started at.
  const controlPlaneVersion = () =>
    store.get("ConfigMap", CLUSTER_INFO.namespace, CLUSTER_INFO.name)?.data?.kubernetesVersion ??
    kubernetesVersion;
  const shape = () => ({ ...clusterInfo(store), kubernetesVersion: controlPlaneVersion() });
  if (!saved?.aws) seedAccount(account, shape(), clock.now());
  let server: ApiServer;
  let awsEndpoint: AwsEndpoint;
  try {
    server = await startApiServer({
      store,
      clock,
      token,
      tls,
      kubernetesVersion: controlPlaneVersion,
      faults,
      port: options.port,
      runtime,
    });
    const awsContext: AwsContext = {
      state: account,
      store,
      clock,
      cluster: shape,
      apiServer: { url: server.url, certificate: tls.cert },
    };
    awsEndpoint = await startAwsEndpoint(awsContext, options.awsPort).catch(async (error: unknown) => {
      await server.close();
      throw error;
    });
  } catch (error) {
    controllers?.stop();
    await runtime?.stop();
    await s3.stop();
    clock.stop();
    throw error;
  }

  const save = async () => {
    if (!options.stateDir) return;
    const snapshot = store.snapshot();
    await saveState(options.stateDir, {
      format: STATE_FORMAT,
      savedAt: new Date().toISOString(),
      resourceVersion: snapshot.resourceVersion,
      clockNow: clock.now(),
      token,
      tls,
      kubernetesVersion: controlPlaneVersion(),
      objects: snapshot.objects,
      aws: account,
    });
  };
  let stopped = false;
  return {
    url: server.url,
    token,
    certificate: tls.cert,
    store,
    clock,
    faults,
    get kubernetesVersion() {
      return controlPlaneVersion();
    },
    controllers,
    runtime,
    clusterName: shape().name,
    aws: {
      endpoint: awsEndpoint.url,
      region: shape().region,
      accessKeyId: account.accessKeyId,
      secretAccessKey: account.secretAccessKey,
      s3Endpoint: s3.endpoint,
    },
    s3: { endpoint: s3.endpoint, region: s3.region },
    kubeconfig: (contextName = SANDBOX_CONTEXT) =>
      kubeconfigYaml({ server: server.url, token, certificateAuthority: tls.cert, contextName }),
    writeKubeconfig: (path, contextName = SANDBOX_CONTEXT) =>
      writeKubeconfigFile(path, { server: server.url, token, certificateAuthority: tls.cert, contextName }),
    save,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      controllers?.stop();
      // After the controllers: nothing restarts what the runtime stops now.
      await runtime?.stop();
      forgetAccessPoints?.();
      await s3.stop();
      await save();
      await awsEndpoint.close();
      await server.close();
      clock.stop();
    },
  };
}

export { installEksAddons } from "./controllers/addons.js";
export { injectProbeFailure, setNodeReady, upgradeNodegroup } from "./controllers/index.js";
export {
  OperationError as SandboxOperationError,
  SandboxError,
  UsageError as SandboxUsageError,
} from "./errors.js";
export { SANDBOX_CONTEXT } from "./kubeconfig.js";
export * from "./lifecycle/index.js";
export { defaultStateDir, loadState, resetState } from "./persist.js";
export { s3Environment } from "./s3.js";
export { MemoryStore } from "./store.js";
export type { KubeObject, ObjectStore, SandboxClock } from "./types.js";
