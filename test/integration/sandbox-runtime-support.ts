/**
 * Helpers for the sandbox runtime tests: clouddrove's own rendered registry manifests applied to a
 * started sandbox with @kubernetes/client-node (through the kube adapter), waits on the sandbox's store,
 * and registry endpoints reached through pods/portforward or the load balancer proxy.
 */

import type { Sandbox } from "../../sandbox/src/index.js";
import type { KubeObject as StoredObject } from "../../sandbox/src/types.js";
import { until } from "../../sandbox/test/support/wait.js";
import { connectKube, type Kube } from "../../src/adapters/kube.js";
import { openPortForward } from "../../src/adapters/port-forward.js";
import type { RegistryEndpoint } from "../../src/adapters/registry.js";
import { resolveConfig } from "../../src/config/resolve.js";
import { htpasswdLine } from "../../src/config/secrets.js";
import { type KubeObject, names, renderManifests } from "../../src/core/render/index.js";

export { until };

export const USER = "clouddrove";
export const PASSWORD = "correct horse battery staple";
export const FILE_SYSTEM = "fs-0123456789abcdef0";
export const NAMESPACE = names.namespaceDefault;

/**
 * `deploy` as the sandbox tests run it, JSON out: no smoke test, and plain HTTP, since they read the
 * registry with fetch through the load balancer (TLS has tests of its own).
 */
export const SANDBOX_DEPLOY = [
  "-o",
  "json",
  "deploy",
  "--yes",
  "--no-smoke-test",
  "--insecure-http",
  "--efs-file-system-id",
  FILE_SYSTEM,
] as const;

export async function connect(sandbox: Sandbox): Promise<Kube> {
  return connectKube({ kubeconfigText: sandbox.kubeconfig(), env: {} });
}

/** clouddrove's registry objects for an EFS-backed install, with real credentials. */
export async function renderedRegistry(): Promise<KubeObject[]> {
  const { config } = resolveConfig({
    // Plain HTTP: these tests reach the pods with fetch; deploy-sandbox and registry-tls prove TLS.
    set: [`storage.efs.fileSystemId=${FILE_SYSTEM}`, "tls.mode=insecure-http"],
  });
  return renderManifests(config, {
    username: USER,
    password: PASSWORD,
    httpSecret: "4f0e9d3c2b1a09f8e7d6c5b4a3928170",
    htpasswd: await htpasswdLine(USER, PASSWORD),
  });
}

export async function applyAll(kube: Kube, objects: KubeObject[]): Promise<void> {
  for (const object of objects) await kube.apply(object);
}

export const isReady = (pod: StoredObject | undefined) =>
  (pod?.status?.conditions ?? []).some(
    (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True",
  );

export function registryPods(sandbox: Sandbox): StoredObject[] {
  return sandbox.store
    .list("Pod", { namespace: NAMESPACE, labelSelector: names.registryPodSelector })
    .filter((pod) => !pod.metadata.deletionTimestamp);
}

/** Waits until `count` registry pods are Ready and each has a running process; returns them. */
export async function readyRegistryPods(sandbox: Sandbox, count = 3): Promise<StoredObject[]> {
  return until(`${count} ready registry pods with processes`, () => {
    const pods = registryPods(sandbox).filter(
      (pod) => isReady(pod) && sandbox.runtime?.processes.hasProcess(NAMESPACE, pod.metadata.name),
    );
    return pods.length === count ? pods : undefined;
  });
}

export const withCredentials = (baseUrl: string): RegistryEndpoint => ({
  baseUrl,
  username: USER,
  password: PASSWORD,
  timeoutMs: 10_000,
});

/** Runs `use` with a registry endpoint through a port-forward to the pod's port 5000, then closes it. */
export async function throughPortForward<T>(
  kube: Kube,
  pod: string,
  use: (baseUrl: string) => Promise<T>,
  namespace = NAMESPACE,
): Promise<T> {
  const forward = await openPortForward(kube, namespace, pod, 5000);
  try {
    return await use(`http://127.0.0.1:${forward.localPort}`);
  } finally {
    await forward.close();
  }
}

/** The load balancer address clouddrove reads: ingress hostname-or-ip and ports[0].port. */
export function loadBalancerUrl(sandbox: Sandbox): string | undefined {
  const service = sandbox.store.get("Service", NAMESPACE, names.service);
  const ingress = service?.status?.loadBalancer?.ingress?.[0];
  const port = ingress?.ports?.[0]?.port;
  return ingress?.ip && port ? `http://${ingress.ip}:${port}` : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
