/**
 * A healthy snapshot of the registry on three nodes in three zones, as plain Kubernetes JSON, for tests
 * that break one thing at a time.
 */
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { ClusterSnapshot, HealthExpectations } from "../../src/core/health/snapshot.js";

const zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

export function node(name: string, zone: string, overrides: Pick<V1Node, "spec" | "status"> = {}): V1Node {
  return {
    metadata: { name, labels: { "topology.kubernetes.io/zone": zone } },
    spec: { unschedulable: false, ...overrides.spec },
    status: {
      conditions: [
        { type: "Ready", status: "True" },
        { type: "MemoryPressure", status: "False" },
      ],
      nodeInfo: {
        kubeletVersion: "v1.33.5-eks-1234",
        kubeProxyVersion: "v1.33.5-eks-1234",
        containerRuntimeVersion: "containerd://1.7.27",
        architecture: "amd64",
        operatingSystem: "linux",
        osImage: "Amazon Linux 2023",
        kernelVersion: "6.1.0",
        bootID: `boot-${name}`,
        machineID: `machine-${name}`,
        systemUUID: `uuid-${name}`,
      },
      ...overrides.status,
    },
  };
}

export function readyPod(name: string, nodeName: string): V1Pod {
  return {
    metadata: { name, namespace: "clouddrove" },
    spec: { nodeName, containers: [{ name: "registry", image: "registry:2.8.2" }] },
    status: {
      phase: "Running",
      conditions: [
        { type: "PodScheduled", status: "True" },
        { type: "Ready", status: "True" },
      ],
      containerStatuses: [
        {
          name: "registry",
          image: "registry:2.8.2",
          imageID: "",
          ready: true,
          restartCount: 0,
          state: { running: {} },
        },
      ],
    },
  };
}

export function healthySnapshot(): ClusterSnapshot {
  const nodes = zones.map((zone, i) => node(`node-${i}`, zone));
  return {
    namespace: "clouddrove",
    nodes,
    deployment: {
      metadata: { name: "registry-clouddrove", generation: 2 },
      spec: {
        replicas: 3,
        selector: { matchLabels: { "app.kubernetes.io/component": "registry" } },
        template: { spec: { containers: [{ name: "registry", image: "registry:2.8.2" }] } },
      },
      status: {
        observedGeneration: 2,
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
      },
    },
    pods: [0, 1, 2].map((i) => readyPod(`registry-clouddrove-abc-${i}`, `node-${i}`)),
    claim: { metadata: { name: "registry-clouddrove-data" }, status: { phase: "Bound" } },
    volume: { metadata: { name: "registry-clouddrove-data-clouddrove" }, status: { phase: "Bound" } },
    service: {
      metadata: { name: "registry-clouddrove" },
      status: { loadBalancer: { ingress: [{ hostname: "a1b2.elb.eu-west-1.amazonaws.com" }] } },
    },
    endpoints: { subsets: [{ addresses: [{ ip: "10.0.1.1" }, { ip: "10.0.2.1" }, { ip: "10.0.3.1" }] }] },
    networkPolicies: [
      { metadata: { name: "clouddrove-default-deny" } },
      { metadata: { name: "registry-clouddrove-ingress" } },
    ],
    disruptionBudget: {
      status: { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 },
    },
    backupJobs: [],
  };
}

export const expectations: HealthExpectations = {
  replicas: 3,
  image: "registry:2.8.2",
  networkPolicies: ["clouddrove-default-deny", "registry-clouddrove-ingress"],
  requireLoadBalancer: true,
};
