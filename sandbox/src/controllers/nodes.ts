/**
 * EKS-like worker nodes: the names, labels, capacity and status a managed node group's EC2 instances
 * register with, so that what clouddrove reads from a sandbox node looks like what it reads on EKS.
 */
import type { KubeObject, ObjectStore } from "../types.js";
import { type NameGenerator, timestamp } from "./runtime.js";

export interface InstanceType {
  cpu: string;
  allocatableCpu: string;
  memoryKi: number;
  allocatableMemoryKi: number;
  /** Max pods with the VPC CNI (ENIs x IPs per ENI - 1 + 2). */
  pods: number;
}

export const INSTANCE_TYPES: Record<string, InstanceType> = {
  "m5.large": {
    cpu: "2",
    allocatableCpu: "1930m",
    memoryKi: 7_910_348,
    allocatableMemoryKi: 7_220_172,
    pods: 29,
  },
  "m5.xlarge": {
    cpu: "4",
    allocatableCpu: "3920m",
    memoryKi: 15_896_156,
    allocatableMemoryKi: 14_807_004,
    pods: 58,
  },
  "m6i.large": {
    cpu: "2",
    allocatableCpu: "1930m",
    memoryKi: 7_910_348,
    allocatableMemoryKi: 7_220_172,
    pods: 29,
  },
  "m6i.xlarge": {
    cpu: "4",
    allocatableCpu: "3920m",
    memoryKi: 15_896_156,
    allocatableMemoryKi: 14_807_004,
    pods: 58,
  },
  "t3.medium": {
    cpu: "2",
    allocatableCpu: "1930m",
    memoryKi: 3_955_552,
    allocatableMemoryKi: 3_397_472,
    pods: 17,
  },
};

export const DEFAULT_INSTANCE_TYPE = "m5.large";

// The newest EKS patch of each minor the sandbox knows; kubelets report e.g. v1.33.5-eks-3025e55.
const EKS_PATCH: Record<string, number> = {
  "1.28": 15,
  "1.29": 15,
  "1.30": 14,
  "1.31": 13,
  "1.32": 9,
  "1.33": 5,
  "1.34": 1,
};

function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (const char of text) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0").slice(0, 7);
}

/** "1.33" or "1.33.5" or "v1.33.5" -> { minor: "1.33", kubelet: "v1.33.5-eks-xxxxxxx" }. */
export function kubeletVersionFor(version: string): { minor: string; kubelet: string } {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!match) throw new RangeError(`not a Kubernetes version: "${version}" (expected e.g. "1.33")`);
  const minor = `${match[1]}.${match[2]}`;
  const patch = match[3] ?? String(EKS_PATCH[minor] ?? 0);
  const plain = `v${minor}.${patch}`;
  return { minor, kubelet: `${plain}-eks-${shortHash(plain)}` };
}

/** Minor version of a kubelet version string ("v1.33.5-eks-..." -> "1.33"). */
export function minorOf(kubeletVersion: string | undefined): string | undefined {
  const match = /^v?(\d+)\.(\d+)/.exec(kubeletVersion ?? "");
  return match ? `${match[1]}.${match[2]}` : undefined;
}

/** AWS zone ids: eu-west-1 -> euw1, ap-southeast-2 -> apse2, us-east-1 -> use1. */
function zoneIdPrefix(region: string): string {
  const [area = "", direction = "", number = ""] = region.split("-");
  const short = direction
    .replace(/north/, "n")
    .replace(/south/, "s")
    .replace(/east/, "e")
    .replace(/west/, "w");
  return `${area}${short.replace("central", "c")}${number}`;
}

export function hostDomain(region: string): string {
  return region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
}

/** A private IP in the zone's /19 (zone i: 10.0.32*i.0/19), unused by any node yet. */
export function nodeAddress(store: ObjectStore, names: NameGenerator, zoneIndex: number): string {
  const taken = new Set(
    store.list("Node").flatMap((n) => (n.status?.addresses ?? []).map((a: { address: string }) => a.address)),
  );
  for (;;) {
    const ip = `10.0.${zoneIndex * 32 + names.int(32)}.${1 + names.int(254)}`;
    if (!taken.has(ip)) return ip;
  }
}

export interface NodeSpec {
  zone: string;
  zoneIndex: number;
  region: string;
  nodegroup: string;
  kubernetesVersion: string;
  instanceType?: string;
  clusterName?: string;
  ready: boolean;
  now: number;
}

export function buildNode(store: ObjectStore, names: NameGenerator, spec: NodeSpec): KubeObject {
  const ip = nodeAddress(store, names, spec.zoneIndex);
  const hostname = `ip-${ip.replaceAll(".", "-")}.${hostDomain(spec.region)}`;
  const typeName = spec.instanceType ?? DEFAULT_INSTANCE_TYPE;
  const type = INSTANCE_TYPES[typeName] ?? INSTANCE_TYPES[DEFAULT_INSTANCE_TYPE]!;
  const { minor, kubelet } = kubeletVersionFor(spec.kubernetesVersion);
  const instanceId = `i-0${names.hex(16)}`;
  const now = timestamp(spec.now);
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: hostname,
      labels: {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": typeName,
        "beta.kubernetes.io/os": "linux",
        "eks.amazonaws.com/capacityType": "ON_DEMAND",
        "eks.amazonaws.com/nodegroup": spec.nodegroup,
        // One AMI per Kubernetes minor (EKS-optimized AL2023), 17 hex digits like real image ids.
        "eks.amazonaws.com/nodegroup-image": `ami-0${shortHash(`${minor}-ami`)}${shortHash(`${minor}-al2023`)}${shortHash(minor).slice(0, 2)}`,
        "eks.amazonaws.com/sourceLaunchTemplateVersion": "1",
        "failure-domain.beta.kubernetes.io/region": spec.region,
        "failure-domain.beta.kubernetes.io/zone": spec.zone,
        "k8s.io/cloud-provider-aws": [spec.region, spec.clusterName ?? "", "cluster", "aws"]
          .map(shortHash)
          .join("")
          .slice(0, 32)
          .padEnd(32, "0"),
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": hostname,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": typeName,
        "topology.ebs.csi.aws.com/zone": spec.zone,
        "topology.k8s.aws/zone-id": `${zoneIdPrefix(spec.region)}-az${spec.zoneIndex + 1}`,
        "topology.kubernetes.io/region": spec.region,
        "topology.kubernetes.io/zone": spec.zone,
        ...(spec.clusterName ? { "alpha.eksctl.io/cluster-name": spec.clusterName } : {}),
        "alpha.eksctl.io/nodegroup-name": spec.nodegroup,
      },
      annotations: {
        "alpha.kubernetes.io/provided-node-ip": ip,
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
    },
    spec: {
      providerID: `aws:///${spec.zone}/${instanceId}`,
      ...(spec.ready
        ? {}
        : {
            taints: [
              { key: "node.kubernetes.io/not-ready", effect: "NoSchedule", timeAdded: now },
              { key: "node.kubernetes.io/not-ready", effect: "NoExecute", timeAdded: now },
            ],
          }),
    },
    status: {
      capacity: {
        cpu: type.cpu,
        "ephemeral-storage": "83873772Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        memory: `${type.memoryKi}Ki`,
        pods: String(type.pods),
      },
      allocatable: {
        cpu: type.allocatableCpu,
        "ephemeral-storage": "76224326324",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        memory: `${type.allocatableMemoryKi}Ki`,
        pods: String(type.pods),
      },
      conditions: [
        condition(
          "MemoryPressure",
          "False",
          "KubeletHasSufficientMemory",
          "kubelet has sufficient memory available",
        ),
        condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        spec.ready
          ? condition("Ready", "True", "KubeletReady", "kubelet is posting ready status")
          : condition(
              "Ready",
              "False",
              "KubeletNotReady",
              "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
            ),
      ],
      addresses: [
        { type: "InternalIP", address: ip },
        { type: "InternalDNS", address: hostname },
        { type: "Hostname", address: hostname },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: "amd64",
        bootID: names.uuid(),
        containerRuntimeVersion: "containerd://1.7.27",
        kernelVersion: "6.1.141-155.222.amzn2023.x86_64",
        kubeProxyVersion: kubelet,
        kubeletVersion: kubelet,
        machineID: names.hex(32),
        operatingSystem: "linux",
        osImage: "Amazon Linux 2023.7.20250623",
        systemUUID: `ec2${names.hex(5)}-${names.hex(4)}-${names.hex(4)}-${names.hex(4)}-${names.hex(12)}`,
      },
    },
  };
}

export function zoneOf(node: KubeObject): string | undefined {
  return node.metadata.labels?.["topology.kubernetes.io/zone"];
}

export function internalIP(node: KubeObject): string | undefined {
  return (node.status?.addresses ?? []).find((a: { type: string }) => a.type === "InternalIP")?.address;
}
