import { describe, expect, it } from "vitest";
import {
  type ClusterInput,
  ClusterSnapshot,
  parseQuantity,
  podRequests,
  type ScheduleResult,
  toleratesTaint,
} from "../../src/scheduling.js";
import type { KubeObject } from "../../src/types.js";
import { onePerNode, requiredPodAffinity } from "../support/registry-objects.js";

const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

function node(
  name: string,
  zone: string,
  extra: {
    unschedulable?: boolean;
    taints?: unknown[];
    labels?: Record<string, string>;
    cpu?: string;
    pods?: string;
  } = {},
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: { "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone, ...extra.labels },
    },
    spec: { unschedulable: extra.unschedulable, taints: extra.taints },
    status: {
      allocatable: { cpu: extra.cpu ?? "1930m", memory: "7220Mi", pods: extra.pods ?? "29" },
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

function threeNodes(): KubeObject[] {
  return ZONES.map((zone, i) => node(`node-${i}`, zone));
}

const antiAffinity = onePerNode();
/** Registry pods spread over zones, hard: at most one more in any zone than in the emptiest. */
const zoneSpread = {
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "DoNotSchedule",
      labelSelector: { matchLabels: { app: "registry" } },
    },
  ],
};

let counter = 0;
function pod(spec: Record<string, unknown> = {}, meta: Partial<KubeObject["metadata"]> = {}): KubeObject {
  counter++;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `pod-${counter}`,
      namespace: "registry",
      uid: `uid-${counter}`,
      labels: { app: "registry" },
      ...meta,
    },
    spec: { containers: [{ name: "registry", image: "registry:2.8.2" }], ...spec },
    status: { phase: "Pending" },
  };
}

function bound(p: KubeObject, nodeName: string): KubeObject {
  return { ...p, spec: { ...p.spec, nodeName }, status: { phase: "Running" } };
}

function schedule(input: ClusterInput, p: KubeObject): ScheduleResult {
  return new ClusterSnapshot(input).schedule(p);
}

function failure(result: ScheduleResult): string {
  if (result.fit) throw new Error(`expected no fit, got ${result.nodeName}`);
  return result.message;
}

describe("quantities and requests", () => {
  it("parses decimal, binary and exponent quantities", () => {
    expect(parseQuantity("250m")).toBeCloseTo(0.25);
    expect(parseQuantity("2")).toBe(2);
    expect(parseQuantity("1.5Gi")).toBe(1.5 * 2 ** 30);
    expect(parseQuantity("128Mi")).toBe(128 * 2 ** 20);
    expect(parseQuantity("1G")).toBe(1e9);
    expect(parseQuantity("1e3")).toBe(1000);
    expect(parseQuantity("7220224Ki")).toBe(7220224 * 1024);
    expect(parseQuantity("12GB")).toBeNaN();
  });

  it("sums containers, takes the largest init container, and defaults requests to limits", () => {
    const p = pod({
      initContainers: [{ name: "init", resources: { requests: { cpu: "1" } } }],
      containers: [
        { name: "a", resources: { requests: { cpu: "250m", memory: "64Mi" } } },
        { name: "b", resources: { limits: { cpu: "500m", memory: "128Mi" } } },
      ],
    });
    const requests = podRequests(p);
    expect(requests.cpu).toBe(1);
    expect(requests.memory).toBe(192 * 2 ** 20);
  });

  it("matches tolerations like the API: Exists without key tolerates everything, Equal needs the value", () => {
    const taint = { key: "dedicated", value: "gpu", effect: "NoSchedule" };
    expect(toleratesTaint([{ operator: "Exists" }], taint)).toBe(true);
    expect(toleratesTaint([{ key: "dedicated", operator: "Equal", value: "gpu" }], taint)).toBe(true);
    expect(toleratesTaint([{ key: "dedicated", value: "cpu" }], taint)).toBe(false);
    expect(toleratesTaint([{ key: "dedicated", operator: "Exists", effect: "NoExecute" }], taint)).toBe(
      false,
    );
  });
});

describe("filters", () => {
  it("places the replicas of a Deployment with required anti-affinity one per node", () => {
    const snapshot = new ClusterSnapshot({ nodes: threeNodes(), pods: [] });
    const owner = [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "rs-1", controller: true }];
    const placed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = pod({ affinity: antiAffinity }, { ownerReferences: owner });
      const result = snapshot.schedule(p);
      if (!result.fit) throw new Error(result.message);
      snapshot.assume(p, result.nodeName);
      placed.push(result.nodeName);
    }
    expect(new Set(placed).size).toBe(3);
    const fourth = snapshot.schedule(pod({ affinity: antiAffinity }, { ownerReferences: owner }));
    expect(failure(fourth)).toBe(
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    );
  });

  it("words a cordoned node plus anti-affinity as the real scheduler does", () => {
    const nodes = threeNodes();
    nodes[0]!.spec.unschedulable = true;
    const pods = [
      bound(pod({ affinity: antiAffinity }), "node-1"),
      bound(pod({ affinity: antiAffinity }), "node-2"),
    ];
    const message = failure(schedule({ nodes, pods }, pod({ affinity: antiAffinity })));
    expect(message).toBe(
      "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
    );
  });

  it("lets a pod onto a cordoned node only when it tolerates the unschedulable taint (DaemonSet pods)", () => {
    const nodes = [node("only", "eu-west-1a", { unschedulable: true })];
    expect(schedule({ nodes, pods: [] }, pod()).fit).toBe(false);
    const tolerant = pod({
      tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }],
    });
    expect(schedule({ nodes, pods: [] }, tolerant)).toMatchObject({ fit: true, nodeName: "only" });
  });

  it("keeps pods off NotReady nodes through the not-ready taint, and names the taint", () => {
    const nodes = threeNodes();
    nodes[2]!.spec.taints = [{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }];
    nodes[1]!.spec.taints = [{ key: "dedicated", value: "gpu", effect: "NoExecute" }];
    nodes[0]!.metadata.labels!.disk = "hdd";
    const message = failure(schedule({ nodes, pods: [] }, pod({ nodeSelector: { disk: "ssd" } })));
    expect(message).toBe(
      "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it("from 1.34 the DRA plugin's part comes before preemption's, as kube-scheduler v1.35.4 writes it", () => {
    const unmatched = pod({ nodeSelector: { "topology.kubernetes.io/zone": "eu-west-1z" } });
    expect(failure(schedule({ nodes: threeNodes(), pods: [], kubernetesMinor: 35 }, unmatched))).toBe(
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    expect(failure(schedule({ nodes: threeNodes(), pods: [], kubernetesMinor: 33 }, unmatched))).toBe(
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it("from 1.35 an untolerated taint is not named in the message", () => {
    const nodes = threeNodes();
    for (const node of nodes) node.spec.taints = [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }];
    expect(failure(schedule({ nodes, pods: [], kubernetesMinor: 35 }, pod()))).toBe(
      "0/3 nodes are available: 3 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it("honours required node affinity with In, NotIn and matchFields", () => {
    const nodes = threeNodes();
    const affinity = (terms: unknown[]) => ({
      affinity: {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
      },
    });
    const inZoneB = pod(
      affinity([
        {
          matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: ["eu-west-1b"] }],
        },
      ]),
    );
    expect(schedule({ nodes, pods: [] }, inZoneB)).toMatchObject({ fit: true, nodeName: "node-1" });
    const onNode2 = pod(
      affinity([{ matchFields: [{ key: "metadata.name", operator: "In", values: ["node-2"] }] }]),
    );
    expect(schedule({ nodes, pods: [] }, onNode2)).toMatchObject({ fit: true, nodeName: "node-2" });
    const nowhere = pod(
      affinity([
        { matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "NotIn", values: ZONES }] },
      ]),
    );
    expect(failure(schedule({ nodes, pods: [] }, nowhere))).toContain(
      "3 node(s) didn't match Pod's node affinity/selector",
    );
  });

  it("counts requests against allocatable, including pods already bound, and the pod limit", () => {
    const nodes = [
      node("small", "eu-west-1a", { cpu: "1", pods: "2" }),
      node("big", "eu-west-1b", { cpu: "4", pods: "1" }),
    ];
    const hungry = (cpu: string) => pod({ containers: [{ name: "c", resources: { requests: { cpu } } }] });
    const pods = [bound(hungry("600m"), "small"), bound(pod(), "big")];
    const message = failure(schedule({ nodes, pods }, hungry("500m")));
    expect(message).toBe(
      "0/2 nodes are available: 1 Insufficient cpu, 1 Too many pods. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
    expect(schedule({ nodes, pods }, hungry("400m"))).toMatchObject({ fit: true, nodeName: "small" });
  });

  it("ignores finished pods when counting resources", () => {
    const nodes = [node("n", "eu-west-1a", { pods: "1" })];
    const done = { ...bound(pod(), "n"), status: { phase: "Succeeded" } };
    expect(schedule({ nodes, pods: [done] }, pod()).fit).toBe(true);
  });

  it("keeps terminating pods in anti-affinity (they still run) but not in topology spread counts", () => {
    const nodes = threeNodes();
    const terminating = bound(
      pod({ affinity: antiAffinity }, { deletionTimestamp: "2025-01-01T00:00:00Z" }),
      "node-0",
    );
    const result = schedule({ nodes, pods: [terminating] }, pod({ affinity: antiAffinity }));
    expect(result.fit && result.nodeName).not.toBe("node-0");
    // Only node-0 may take the pod; the terminating pod there does not count towards the skew.
    nodes[1]!.spec.unschedulable = true;
    nodes[2]!.spec.unschedulable = true;
    const spread = pod(zoneSpread);
    const leaving = bound(pod({}, { deletionTimestamp: "2025-01-01T00:00:00Z" }), "node-0");
    const running = bound(pod(), "node-0");
    expect(schedule({ nodes, pods: [leaving] }, spread)).toMatchObject({ fit: true, nodeName: "node-0" });
    expect(schedule({ nodes, pods: [leaving, running] }, spread).fit).toBe(false);
  });

  it("checks existing pods' anti-affinity against the incoming pod", () => {
    const nodes = [node("a", "eu-west-1a"), node("b", "eu-west-1b")];
    const loner = bound(
      pod(
        {
          affinity: requiredPodAffinity("podAntiAffinity", "web", "topology.kubernetes.io/zone"),
        },
        { labels: { app: "loner" } },
      ),
      "a",
    );
    const web = pod({}, { labels: { app: "web" } });
    expect(schedule({ nodes, pods: [loner] }, web)).toMatchObject({ fit: true, nodeName: "b" });
    const message = failure(schedule({ nodes: [nodes[0]!], pods: [loner] }, web));
    expect(message).toContain("1 node(s) didn't satisfy existing pods anti-affinity rules");
  });

  it("lets the first pod of a self-affine group in, then keeps the group together", () => {
    const nodes = threeNodes();
    const affine = () =>
      pod(
        {
          affinity: requiredPodAffinity("podAffinity", "cache", "topology.kubernetes.io/zone"),
        },
        { labels: { app: "cache" } },
      );
    const snapshot = new ClusterSnapshot({ nodes, pods: [] });
    const first = affine();
    const r1 = snapshot.schedule(first);
    if (!r1.fit) throw new Error(r1.message);
    snapshot.assume(first, r1.nodeName);
    const r2 = snapshot.schedule(affine());
    expect(r2).toMatchObject({ fit: true, nodeName: r1.nodeName });
  });

  it("enforces DoNotSchedule topology spread by maxSkew over the eligible domains", () => {
    const nodes = [node("a1", "eu-west-1a"), node("a2", "eu-west-1a"), node("b1", "eu-west-1b")];
    const pods = [bound(pod(), "a1"), bound(pod(), "a2"), bound(pod(), "b1")];
    // zone a holds 2, zone b holds 1: a third in zone a would make the skew 2.
    expect(schedule({ nodes, pods }, pod(zoneSpread))).toMatchObject({ fit: true, nodeName: "b1" });
    nodes[2]!.spec.unschedulable = true;
    const message = failure(schedule({ nodes, pods }, pod(zoneSpread)));
    expect(message).toContain("2 node(s) didn't match pod topology spread constraints");
    expect(message).toContain("1 node(s) were unschedulable");
  });

  it("reports a node without the spread's topology key as missing the label", () => {
    const unlabelled = node("bare", "eu-west-1a");
    delete unlabelled.metadata.labels!["topology.kubernetes.io/zone"];
    const spread = pod(zoneSpread);
    expect(failure(schedule({ nodes: [unlabelled], pods: [] }, spread))).toContain(
      "1 node(s) didn't match pod topology spread constraints (missing required label)",
    );
  });

  it("refuses hostPort clashes", () => {
    const nodes = [node("a", "eu-west-1a")];
    const withPort = () =>
      pod({ containers: [{ name: "c", ports: [{ containerPort: 80, hostPort: 8080 }] }] });
    expect(failure(schedule({ nodes, pods: [bound(withPort(), "a")] }, withPort()))).toContain(
      "node(s) didn't have free ports for the requested pod ports",
    );
  });

  it("spreads replicas of one owner across zones before stacking them", () => {
    const nodes = [
      node("a1", "eu-west-1a"),
      node("a2", "eu-west-1a"),
      node("b1", "eu-west-1b"),
      node("c1", "eu-west-1c"),
    ];
    const snapshot = new ClusterSnapshot({ nodes, pods: [] });
    const owner = [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "rs-9", controller: true }];
    const zones: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = pod({}, { ownerReferences: owner });
      const result = snapshot.schedule(p);
      if (!result.fit) throw new Error(result.message);
      snapshot.assume(p, result.nodeName);
      zones.push(
        nodes.find((n) => n.metadata.name === result.nodeName)!.metadata.labels![
          "topology.kubernetes.io/zone"
        ]!,
      );
    }
    expect(new Set(zones).size).toBe(3);
  });
});

describe("volumes", () => {
  const claim = (name: string, extra: Record<string, unknown>): KubeObject => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "registry" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } }, ...extra },
    status: { phase: "Pending" },
  });
  const withClaim = (name: string) =>
    pod({ volumes: [{ name: "data", persistentVolumeClaim: { claimName: name } }] });

  it("refuses a missing claim and an unbound immediate claim, as PreFilter does", () => {
    const claims: Record<string, KubeObject> = { pending: claim("pending", { storageClassName: "efs-sc" }) };
    const volumes = {
      claim: (_ns: string, name: string) => claims[name],
      volume: () => undefined,
      storageClass: (name: string) =>
        name === "efs-sc"
          ? ({
              apiVersion: "storage.k8s.io/v1",
              kind: "StorageClass",
              metadata: { name },
              volumeBindingMode: "Immediate",
            } as KubeObject)
          : undefined,
    };
    expect(failure(schedule({ nodes: threeNodes(), pods: [], volumes }, withClaim("nope")))).toBe(
      '0/3 nodes are available: persistentvolumeclaim "nope" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
    expect(failure(schedule({ nodes: threeNodes(), pods: [], volumes }, withClaim("pending")))).toBe(
      "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it("passes a WaitForFirstConsumer claim for provisioning, and keeps a bound zonal volume's pods in its zone", () => {
    const claims: Record<string, KubeObject> = {
      later: claim("later", { storageClassName: "gp3" }),
      ebs: { ...claim("ebs", { storageClassName: "gp3", volumeName: "pv-ebs" }), status: { phase: "Bound" } },
    };
    const pv: KubeObject = {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv-ebs" },
      spec: {
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: "topology.kubernetes.io/zone", operator: "In", values: ["eu-west-1c"] },
                ],
              },
            ],
          },
        },
      },
    };
    const volumes = {
      claim: (_ns: string, name: string) => claims[name],
      volume: (name: string) => (name === "pv-ebs" ? pv : undefined),
      storageClass: (name: string) =>
        ({
          apiVersion: "storage.k8s.io/v1",
          kind: "StorageClass",
          metadata: { name },
          volumeBindingMode: "WaitForFirstConsumer",
        }) as KubeObject,
    };
    expect(schedule({ nodes: threeNodes(), pods: [], volumes }, withClaim("later"))).toMatchObject({
      fit: true,
      claimsToProvision: ["later"],
    });
    expect(schedule({ nodes: threeNodes(), pods: [], volumes }, withClaim("ebs"))).toMatchObject({
      fit: true,
      nodeName: "node-2",
    });
    const nodes = threeNodes();
    nodes[2]!.spec.unschedulable = true;
    expect(failure(schedule({ nodes, pods: [], volumes }, withClaim("ebs")))).toBe(
      "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) had volume node affinity conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });
});

describe("scale", () => {
  it("places 1,000 pods of one owner on 100 nodes, evenly", () => {
    const nodes = Array.from({ length: 100 }, (_, i) =>
      node(`n-${String(i).padStart(3, "0")}`, ZONES[i % 3]!),
    );
    const snapshot = new ClusterSnapshot({ nodes, pods: [] });
    const owner = [
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "big", uid: "big-1", controller: true },
    ];
    const perNode = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const p = pod(
        { containers: [{ name: "c", resources: { requests: { cpu: "100m", memory: "64Mi" } } }] },
        { ownerReferences: owner },
      );
      const result = snapshot.schedule(p);
      if (!result.fit) throw new Error(result.message);
      snapshot.assume(p, result.nodeName);
      perNode.set(result.nodeName, (perNode.get(result.nodeName) ?? 0) + 1);
    }
    expect(perNode.size).toBe(100);
    expect(Math.max(...perNode.values())).toBeLessThanOrEqual(11);
  });
});
