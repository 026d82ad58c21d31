/**
 * The objects the simulated-cluster tests deploy, built in one place: the registry Deployment (app=registry
 * pods held one per node by required anti-affinity), and a condition look-up for any object's status.
 */
import type { KubeObject } from "../../src/sandbox/types.js";

/** Required anti-affinity on the hostname: at most one registry replica per node. */
export function onePerNode(): Record<string, unknown> {
  return {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: { app: "registry" } }, topologyKey: "kubernetes.io/hostname" },
      ],
    },
  };
}

/** The rolling update that fits exactly one replica per node: take one down, then start its successor. */
export const ONE_AT_A_TIME = { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } };

export interface RegistryDeploymentOptions {
  replicas?: number;
  strategy?: Record<string, unknown>;
  /** More Deployment spec fields (e.g. minReadySeconds). */
  spec?: Record<string, unknown>;
  /** More pod spec fields (e.g. terminationGracePeriodSeconds, volumes). */
  podSpec?: Record<string, unknown>;
  /** The registry container's fields besides its name and image (probes, ports, mounts). */
  container?: Record<string, unknown>;
}

/** Deployment "registry" in namespace "registry", 3 replicas unless told, one per node. */
export function registryDeployment(options: RegistryDeploymentOptions = {}): KubeObject {
  // A deep copy, so a test that edits the object it gets cannot change what the next call returns.
  return structuredClone({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "registry", namespace: "registry" },
    spec: {
      replicas: options.replicas ?? 3,
      selector: { matchLabels: { app: "registry" } },
      ...(options.strategy ? { strategy: options.strategy } : {}),
      ...options.spec,
      template: {
        metadata: { labels: { app: "registry" } },
        spec: {
          ...options.podSpec,
          affinity: onePerNode(),
          containers: [{ name: "registry", image: "registry:2.8.2", ...options.container }],
        },
      },
    },
  });
}

/** The status condition of `type`, if the object has one. */
export function condition(object: KubeObject | undefined, type: string) {
  return (object?.status?.conditions ?? []).find((x: { type: string }) => x.type === type);
}
