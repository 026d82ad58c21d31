/**
 * The objects a fresh EKS cluster made by clouddrove's eksctl config has before anyone deploys to it:
 * one managed node group (and node) per zone, the EBS and EFS CSI drivers with their storage classes and
 * a snapshot class, and the kube-system add-ons a drain meets (aws-node and kube-proxy DaemonSets,
 * CoreDNS with its PodDisruptionBudget).
 */
import { kubernetesService } from "../store.js";
import { ApiError, type KubeObject, type ObjectStore, type SandboxClock } from "../types.js";
import { buildNode, kubeletVersionFor } from "./nodes.js";
import { NameGenerator } from "./runtime.js";

export interface SeedOptions {
  nodes?: number;
  zones?: string[];
  region?: string;
  kubernetesVersion?: string;
  /** The worker nodes' kubelet minor (default: the control plane's), e.g. to rehearse a node upgrade. */
  kubeletVersion?: string;
  instanceType?: string;
  clusterName?: string;
}

/** Where the sandbox keeps what it was seeded with (read back by node group upgrades and by the API server). */
export const CLUSTER_INFO = { namespace: "kube-system", name: "clouddrove-sandbox" } as const;

/** The cluster is named as clouddrove names one by default (its setting cluster.name). */
export const DEFAULTS = {
  nodes: 3,
  region: "eu-west-1",
  kubernetesVersion: "1.33",
  clusterName: "clouddrove",
} as const;

export function nodegroupName(zone: string): string {
  return `ng-${zone}`;
}

function createIfMissing(store: ObjectStore, object: KubeObject): void {
  try {
    store.create(object);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 409)) throw error;
  }
}

function ecr(region: string, image: string): string {
  return `602401143452.dkr.ecr.${region}.amazonaws.com/${image}`;
}

const ALL_TAINTS = [{ operator: "Exists" }];

function daemonSet(
  name: string,
  image: string,
  requests: Record<string, string>,
  initImage?: string,
): KubeObject {
  const labels = { "k8s-app": name };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace: "kube-system", labels },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          priorityClassName: "system-node-critical",
          serviceAccountName: name === "aws-node" ? "aws-node" : "kube-proxy",
          tolerations: ALL_TAINTS,
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
                      {
                        key: "eks.amazonaws.com/compute-type",
                        operator: "NotIn",
                        values: ["fargate", "hybrid", "auto"],
                      },
                    ],
                  },
                ],
              },
            },
          },
          ...(initImage ? { initContainers: [{ name: "aws-vpc-cni-init", image: initImage }] } : {}),
          containers: [{ name, image, resources: { requests } }],
        },
      },
    },
  };
}

function coreDns(region: string): KubeObject[] {
  const labels = { "k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns" };
  return [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "coredns", namespace: "kube-system", labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels },
          spec: {
            priorityClassName: "system-cluster-critical",
            serviceAccountName: "coredns",
            tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }],
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    podAffinityTerm: {
                      labelSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                      topologyKey: "kubernetes.io/hostname",
                    },
                  },
                ],
              },
            },
            containers: [
              {
                name: "coredns",
                image: ecr(region, "eks/coredns:v1.11.4-eksbuild.14"),
                args: ["-conf", "/etc/coredns/Corefile"],
                ports: [
                  { name: "dns", containerPort: 53, protocol: "UDP" },
                  { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                  { name: "metrics", containerPort: 9153, protocol: "TCP" },
                ],
                resources: { requests: { cpu: "100m", memory: "70Mi" }, limits: { memory: "170Mi" } },
                readinessProbe: { httpGet: { path: "/ready", port: 8181 }, periodSeconds: 10 },
                livenessProbe: {
                  httpGet: { path: "/health", port: 8080 },
                  initialDelaySeconds: 60,
                  failureThreshold: 5,
                },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "coredns", namespace: "kube-system", labels },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kube-dns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
      spec: {
        clusterIP: "10.100.0.10",
        selector: { "k8s-app": "kube-dns" },
        ports: [
          { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
          { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
          { name: "metrics", port: 9153, protocol: "TCP", targetPort: 9153 },
        ],
      },
    },
  ];
}

function storage(): KubeObject[] {
  return [
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "CSIDriver",
      metadata: { name: "ebs.csi.aws.com", labels: { "app.kubernetes.io/name": "aws-ebs-csi-driver" } },
      spec: {
        attachRequired: true,
        podInfoOnMount: false,
        fsGroupPolicy: "File",
        volumeLifecycleModes: ["Persistent"],
      },
    },
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "CSIDriver",
      metadata: { name: "efs.csi.aws.com", labels: { "app.kubernetes.io/name": "aws-efs-csi-driver" } },
      spec: {
        attachRequired: false,
        podInfoOnMount: false,
        fsGroupPolicy: "ReadWriteOnceWithFSType",
        volumeLifecycleModes: ["Persistent"],
      },
    },
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "gp3", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
      reclaimPolicy: "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    },
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "efs-sc" },
      provisioner: "efs.csi.aws.com",
      reclaimPolicy: "Delete",
      volumeBindingMode: "Immediate",
    },
    {
      apiVersion: "snapshot.storage.k8s.io/v1",
      kind: "VolumeSnapshotClass",
      metadata: {
        name: "ebs-csi-snapclass",
        annotations: { "snapshot.storage.kubernetes.io/is-default-class": "true" },
      },
      driver: "ebs.csi.aws.com",
      deletionPolicy: "Delete",
    },
  ];
}

/**
 * Fills an empty store with a cluster. Objects that already exist are left alone, and no nodes are
 * added when the store has some, so seeding a restored state changes nothing.
 */
export function seedCluster(store: ObjectStore, clock: SandboxClock, options: SeedOptions = {}): void {
  const region = options.region ?? DEFAULTS.region;
  const zones =
    options.zones && options.zones.length > 0 ? options.zones : ["a", "b", "c"].map((z) => `${region}${z}`);
  const nodes = options.nodes ?? DEFAULTS.nodes;
  const kubernetesVersion = kubeletVersionFor(options.kubernetesVersion ?? DEFAULTS.kubernetesVersion).minor;
  const names = new NameGenerator(0x5eed ^ nodes);

  for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
    createIfMissing(store, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }
  createIfMissing(store, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: CLUSTER_INFO.name,
      namespace: CLUSTER_INFO.namespace,
      labels: { "app.kubernetes.io/managed-by": "clouddrove-sandbox" },
    },
    data: {
      region,
      zones: zones.join(","),
      kubernetesVersion,
      ...(options.clusterName ? { clusterName: options.clusterName } : {}),
      note: "This cluster is simulated by clouddrove's sandbox.",
    },
  });

  if (store.list("Node").length === 0) {
    for (let i = 0; i < nodes; i++) {
      const zoneIndex = i % zones.length;
      const zone = zones[zoneIndex]!;
      store.create(
        buildNode(store, names, {
          zone,
          zoneIndex,
          region,
          nodegroup: nodegroupName(zone),
          kubernetesVersion: options.kubeletVersion ?? kubernetesVersion,
          instanceType: options.instanceType,
          clusterName: options.clusterName,
          ready: true,
          now: clock.now(),
        }),
      );
    }
  }

  for (const object of storage()) createIfMissing(store, object);
  for (const name of ["aws-node", "kube-proxy", "coredns"]) {
    createIfMissing(store, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name, namespace: "kube-system" },
    });
  }
  const { kubelet } = kubeletVersionFor(kubernetesVersion);
  createIfMissing(
    store,
    daemonSet(
      "aws-node",
      ecr(region, "amazon-k8s-cni:v1.19.6-eksbuild.1"),
      { cpu: "25m" },
      ecr(region, "amazon-k8s-cni-init:v1.19.6-eksbuild.1"),
    ),
  );
  createIfMissing(
    store,
    daemonSet(
      "kube-proxy",
      ecr(region, `eks/kube-proxy:${kubelet.replace(/-eks-.*/, "")}-minimal-eksbuild.2`),
      { cpu: "100m" },
    ),
  );
  for (const object of coreDns(region)) createIfMissing(store, object);
  createIfMissing(store, kubernetesService());
}

/** What seedCluster recorded (cluster name, region, zones, control plane version), or the defaults. */
/** The minor of a version such as "1.35" or "v1.35.4" (0 when it is not one). */
export function kubernetesMinor(version: string): number {
  return Number(/^v?1\.(\d+)/.exec(version)?.[1] ?? 0);
}

export function clusterInfo(store: ObjectStore): {
  name: string;
  region: string;
  zones: string[];
  kubernetesVersion: string;
} {
  const data = store.get("ConfigMap", CLUSTER_INFO.namespace, CLUSTER_INFO.name)?.data ?? {};
  const region = data.region ?? DEFAULTS.region;
  return {
    name: data.clusterName ?? DEFAULTS.clusterName,
    region,
    zones: data.zones ? String(data.zones).split(",") : ["a", "b", "c"].map((z) => `${region}${z}`),
    kubernetesVersion: data.kubernetesVersion ?? DEFAULTS.kubernetesVersion,
  };
}
