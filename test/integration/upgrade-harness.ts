/**
 * What the upgrade tests share: a sandbox the test started (kubeconfig file, so the test can inject faults
 * and watch the store), the registry deployed on it, the CLI run in-process, and a watcher of the test's
 * own that counts ready registry replicas on every pod change the store makes — independent of the
 * command's report.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import type { Sandbox } from "../../sandbox/src/index.js";
import type { MemoryStore } from "../../sandbox/src/store.js";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { cleanEnv, runCli } from "../support/run-cli.js";

export const PASSWORD = "correct-horse-battery-staple";
export const NAMESPACE = "clouddrove";
const EFS = ["--efs-file-system-id", "fs-0123456789abcdef0"];

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

export interface UpgradeHarness {
  sbx: TestSandbox;
  env: NodeJS.ProcessEnv;
  deploy(
    extra?: string[],
    options?: { env?: NodeJS.ProcessEnv; signal?: AbortSignal },
  ): ReturnType<typeof runCli>;
  upgrade(
    args: string[],
    options?: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; json?: boolean; yes?: boolean },
  ): ReturnType<typeof runCli>;
  nodeNames(): string[];
  /** The node a registry replica runs on (the first by name). */
  registryNode(): string;
  registryPods(): Any[];
  /** Starts counting ready registry replicas on every pod change; `min()` is the lowest seen. */
  watchReady(): { min(): number; samples(): number; stop(): void };
  stop(): Promise<void>;
}

const isReady = (pod: Any) =>
  !pod.metadata.deletionTimestamp &&
  (pod.status?.conditions ?? []).some((c: Any) => c.type === "Ready" && c.status === "True");

export async function startHarness(
  options: { speed?: number; nodes?: number } = {},
): Promise<UpgradeHarness> {
  const sbx = await startTestSandbox({
    controllers: true,
    speed: options.speed ?? 300,
    nodes: options.nodes,
  });
  const env = cleanEnv({
    CI: "true",
    CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD,
    CLOUDDROVE_EVICTION_RETRY_MS: "100",
  });
  const registryPods = () =>
    sbx.sandbox.store
      .list("Pod", { namespace: NAMESPACE })
      .filter((p: Any) => p.metadata.labels?.["app.kubernetes.io/component"] === "registry");
  return {
    sbx,
    env,
    deploy: (extra = [], opts = {}) =>
      runCli(["--kubeconfig", sbx.kubeconfigPath, "deploy", "--yes", "--no-smoke-test", ...EFS, ...extra], {
        env: { ...env, ...opts.env },
        cwd: sbx.dir,
        signal: opts.signal,
      }),
    upgrade: (args, opts = {}) =>
      runCli(
        [
          "--kubeconfig",
          sbx.kubeconfigPath,
          ...(opts.json === false ? [] : ["-o", "json"]),
          "upgrade",
          // Without a terminal a new upgrade needs --yes (tests of the confirmation pass yes: false).
          ...(opts.yes === false ? [] : ["--yes"]),
          ...args,
        ],
        {
          env: { ...env, ...opts.env },
          cwd: sbx.dir,
          signal: opts.signal,
        },
      ),
    nodeNames: () =>
      sbx.sandbox.store
        .list("Node")
        .map((n: Any) => n.metadata.name as string)
        .sort(),
    registryNode: () =>
      registryPods()
        .map((p: Any) => p.spec.nodeName as string)
        .filter(Boolean)
        .sort()[0] as string,
    registryPods,
    watchReady: () => {
      let min = Number.POSITIVE_INFINITY;
      let samples = 0;
      const sample = () => {
        samples++;
        min = Math.min(min, registryPods().filter(isReady).length);
      };
      sample();
      const unsubscribe = sbx.sandbox.store.subscribe("Pod", sample);
      return { min: () => min, samples: () => samples, stop: unsubscribe };
    },
    stop: () => sbx.stop(),
  };
}

/**
 * Registers the hooks that give every test (`"each"`) or the whole file (`"all"`) a harness with the
 * registry deployed, and stop it afterwards. The harness exists only once the hook has run, hence getters.
 */
export function useDeployedHarness(per: "each" | "all"): {
  harness: () => UpgradeHarness;
  store: () => MemoryStore;
} {
  let current: UpgradeHarness | undefined;
  const [before, after] = per === "each" ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(async () => {
    current = await startHarness();
    const deployed = await current.deploy();
    expect(deployed.code, deployed.stderr).toBe(0);
  });
  after(async () => {
    await current?.stop();
    current = undefined;
  });
  const harness = () => {
    if (!current) throw new Error("the upgrade harness is used outside a test (its hook has not run)");
    return current;
  };
  return { harness, store: () => harness().sbx.sandbox.store };
}

export function report(stdout: string): Any {
  return JSON.parse(stdout);
}

/** Every node's kubelet at `kubelet`, as after the control plane (1.33) was upgraded ahead of them. */
export function setKubelets(sandbox: Sandbox, kubelet: string): void {
  for (const node of sandbox.store.list("Node")) {
    sandbox.store.updateStatus({
      ...structuredClone(node),
      status: { ...node.status, nodeInfo: { ...node.status.nodeInfo, kubeletVersion: kubelet } },
    });
  }
}
