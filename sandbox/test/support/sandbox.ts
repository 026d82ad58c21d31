/**
 * Test helpers for the sandbox: start one with a kubeconfig in a temp dir, run the real kubectl against
 * it, and build the objects tests need (EKS-like nodes when controllers are off, pods owned by a
 * workload, ready pods).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { type Sandbox, type SandboxOptions, startSandbox } from "../../src/index.js";
import type { MemoryStore } from "../../src/store.js";
import type { KubeObject } from "../../src/types.js";

export interface TestSandbox {
  sandbox: Sandbox;
  dir: string;
  kubeconfigPath: string;
  /** Runs the real kubectl with --kubeconfig pointing at the sandbox; never throws on a non-zero exit. */
  kubectl(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export async function startTestSandbox(options: SandboxOptions = {}): Promise<TestSandbox> {
  const dir = mkdtempSync(join(tmpdir(), "clouddrove-sandbox-test-"));
  const sandbox = await startSandbox({ controllers: false, ...options });
  const kubeconfigPath = join(dir, "kubeconfig");
  sandbox.writeKubeconfig(kubeconfigPath);
  return {
    sandbox,
    dir,
    kubeconfigPath,
    kubectl: async (...args: string[]) => {
      const result = await execa("kubectl", ["--kubeconfig", kubeconfigPath, ...args], {
        reject: false,
        env: { KUBECONFIG: "", HOME: dir },
        timeout: 30_000,
      });
      return {
        exitCode: result.exitCode ?? -1,
        stdout: String(result.stdout),
        stderr: String(result.stderr),
      };
    },
    stop: async () => {
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const TEST_ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

/** EKS-like worker nodes, one per zone (what the controllers' seeding does, for tests without them). */
export function addNodes(store: MemoryStore, zones: string[] = TEST_ZONES): string[] {
  return zones.map((zone, i) => {
    const name = `ip-10-0-${i + 1}-10.eu-west-1.compute.internal`;
    store.create({
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name,
        labels: {
          "kubernetes.io/hostname": name,
          "kubernetes.io/os": "linux",
          "topology.kubernetes.io/zone": zone,
          "topology.kubernetes.io/region": "eu-west-1",
          "eks.amazonaws.com/nodegroup": `ng-${zone}`,
          "node.kubernetes.io/instance-type": "m6i.large",
        },
      },
      spec: {},
      status: {
        conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }],
        nodeInfo: { kubeletVersion: "v1.33.5-eks-1a2b3c4" },
        allocatable: { cpu: "2", memory: "7Gi", pods: "29" },
      },
    });
    return name;
  });
}

/** A running, ready pod bound to a node, owned by `owner` when given. */
export function addRunningPod(
  store: MemoryStore,
  name: string,
  options: {
    node: string;
    labels?: Record<string, string>;
    owner?: KubeObject;
    namespace?: string;
    ready?: boolean;
  },
): KubeObject {
  const owner = options.owner;
  const pod = store.create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: options.namespace ?? "default",
      labels: options.labels ?? {},
      ...(owner
        ? {
            ownerReferences: [
              {
                apiVersion: owner.apiVersion,
                kind: owner.kind,
                name: owner.metadata.name,
                uid: owner.metadata.uid!,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
    },
    spec: { nodeName: options.node, containers: [{ name: "app", image: "registry:2.8.2" }] },
  });
  const ready = options.ready ?? true;
  return store.updateStatus({
    ...structuredClone(pod),
    status: {
      ...pod.status,
      phase: "Running",
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      containerStatuses: [{ name: "app", ready, restartCount: 0, state: { running: {} } }],
    },
  });
}
