/**
 * The objects the sandbox tests deploy, built in one place: the registry Deployment (app=registry pods held
 * one per node by required anti-affinity), the same with its disruption budget as a manifest for kubectl,
 * and a condition look-up for any object's status.
 */
import { stringify } from "yaml";
import type { KubeObject } from "../../src/types.js";

/** A required pod affinity (or anti-affinity) to the pods labelled app=`app` within `topologyKey`. */
export function requiredPodAffinity(
  kind: "podAffinity" | "podAntiAffinity",
  app: string,
  topologyKey: string,
): Record<string, unknown> {
  return {
    [kind]: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: { app } }, topologyKey },
      ],
    },
  };
}

/** Required anti-affinity on the hostname: at most one registry replica per node. */
export function onePerNode(): Record<string, unknown> {
  return requiredPodAffinity("podAntiAffinity", "registry", "kubernetes.io/hostname");
}

/** The rolling update that fits exactly one replica per node: take one down, then start its successor. */
export const ONE_AT_A_TIME = { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } };

export interface RegistryDeploymentOptions {
  /** More metadata, or another namespace than "registry". */
  metadata?: Record<string, unknown>;
  replicas?: number;
  strategy?: Record<string, unknown>;
  /** More Deployment spec fields (e.g. minReadySeconds). */
  spec?: Record<string, unknown>;
  /** More pod spec fields (e.g. terminationGracePeriodSeconds, volumes). */
  podSpec?: Record<string, unknown>;
  /** The registry container's fields besides its name and image (probes, ports, mounts). */
  container?: Record<string, unknown>;
}

/** Deployment "registry" (in namespace "registry" unless told), 3 replicas unless told, one per node. */
export function registryDeployment(options: RegistryDeploymentOptions = {}): KubeObject {
  // A deep copy, so a test that edits the object it gets cannot change what the next call returns.
  return structuredClone({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "registry", namespace: "registry", ...options.metadata },
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

/**
 * A manifest for `kubectl apply -f`: `deployment`, then "---" and a PodDisruptionBudget in its namespace
 * that allows one registry replica down at a time.
 */
export function registryManifest(deployment: KubeObject): string {
  const budget = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "registry", namespace: deployment.metadata.namespace },
    spec: { maxUnavailable: 1, selector: { matchLabels: { app: "registry" } } },
  };
  return `${stringify(deployment)}---\n${stringify(budget)}`;
}

/** The status condition of `type`, if the object has one. */
export function condition(object: KubeObject | undefined, type: string) {
  return (object?.status?.conditions ?? []).find((x: { type: string }) => x.type === type);
}
