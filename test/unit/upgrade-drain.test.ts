/**
 * The drain's filters (kubectl's), the placement prediction and the preflight, on plain objects.
 */
import { describe, expect, it } from "vitest";
import { classifyPods } from "../../src/core/upgrade/drain-filter.js";
import { predictPlacements } from "../../src/core/upgrade/placement.js";
import { evaluatePreflight, type PreflightFacts, rehearsalLines } from "../../src/core/upgrade/preflight.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as plain JSON
type Any = any;

const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
const nodeName = (i: number) => `ip-10-0-${i}-10.eu-west-1.compute.internal`;

function node(i: number, extra: Any = {}): Any {
  return {
    metadata: {
      name: nodeName(i),
      labels: {
        "kubernetes.io/hostname": nodeName(i),
        "topology.kubernetes.io/zone": ZONES[i % 3],
        "eks.amazonaws.com/nodegroup": `ng-${ZONES[i % 3]}`,
        ...extra.labels,
      },
    },
    spec: extra.spec ?? {},
    status: {
      conditions: [{ type: "Ready", status: extra.ready === false ? "False" : "True" }],
      nodeInfo: { kubeletVersion: "v1.33.5-eks-1a2b3c4" },
    },
  };
}

const REGISTRY_LABELS = {
  "app.kubernetes.io/name": "registry",
  "app.kubernetes.io/instance": "clouddrove",
  "app.kubernetes.io/component": "registry",
};

function pod(name: string, on: number, extra: Any = {}): Any {
  return {
    metadata: {
      name,
      namespace: extra.namespace ?? "clouddrove",
      uid: `uid-${name}`,
      labels: extra.labels ?? {},
      annotations: extra.annotations,
      ownerReferences:
        extra.owner === null
          ? undefined
          : [{ kind: extra.owner ?? "ReplicaSet", name: `${name}-rs`, controller: true }],
      deletionTimestamp: extra.deleting ? "2025-01-01T00:00:00Z" : undefined,
    },
    spec: { nodeName: nodeName(on), volumes: extra.volumes, ...extra.spec },
    status: {
      phase: extra.phase ?? "Running",
      conditions: [{ type: "Ready", status: extra.ready === false ? "False" : "True" }],
    },
  };
}

const registrySpec = {
  affinity: {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: REGISTRY_LABELS } },
      ],
    },
  },
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "DoNotSchedule",
      labelSelector: { matchLabels: REGISTRY_LABELS },
    },
  ],
};
const registryPod = (i: number) => pod(`registry-${i}`, i, { labels: REGISTRY_LABELS, spec: registrySpec });
const NO_FLAGS = { force: false, deleteEmptyDirData: false };

describe("drain filters (kubectl pkg/drain)", () => {
  const pods = [
    pod("app", 0),
    pod("agent", 0, { owner: "DaemonSet" }),
    pod("static", 0, { owner: "Node", annotations: { "kubernetes.io/config.mirror": "abc" } }),
    pod("bare", 0, { owner: null }),
    pod("cache", 0, { volumes: [{ name: "tmp", emptyDir: {} }] }),
    pod("done", 0, { owner: null, phase: "Succeeded", volumes: [{ name: "tmp", emptyDir: {} }] }),
    pod("leaving", 0, { deleting: true }),
  ];
  const names = (list: Any[]) => list.map((p) => p.name);

  it("leaves DaemonSet and mirror pods, evicts finished ones, blocks bare and emptyDir pods", () => {
    const result = classifyPods(pods, NO_FLAGS);
    expect(names(result.skip)).toEqual(["agent", "static"]);
    expect(names(result.evict)).toEqual(["app", "done", "leaving"]);
    expect(result.block.map((p) => [p.name, p.flag])).toEqual([
      ["bare", "--force"],
      ["cache", "--delete-emptydir-data"],
    ]);
    expect(result.evict.find((p) => p.name === "leaving")?.terminating).toBe(true);
  });

  it("lets --force and --delete-emptydir-data past the pods they name", () => {
    expect(classifyPods(pods, { force: true, deleteEmptyDirData: false }).block.map((p) => p.name)).toEqual([
      "cache",
    ]);
    expect(classifyPods(pods, { force: false, deleteEmptyDirData: true }).block.map((p) => p.name)).toEqual([
      "bare",
    ]);
    expect(classifyPods(pods, { force: true, deleteEmptyDirData: true }).block).toEqual([]);
  });
});

describe("where evicted pods go", () => {
  const nodes = [node(0), node(1), node(2)];
  const registry = [registryPod(0), registryPod(1), registryPod(2)];

  it("predicts that a registry replica stays Pending on exactly three nodes (anti-affinity)", () => {
    const evicted = classifyPods([registry[0]], NO_FLAGS).evict;
    const [placement] = predictPlacements(evicted, { node: nodeName(0), nodes, pods: registry });
    expect(placement?.candidates).toEqual([]);
    expect(placement?.summary).toBe(
      `clouddrove/registry-0 will stay Pending until ${nodeName(0)} is schedulable again (uncordon): anti-affinity, 2 other nodes taken`,
    );
    const [waiting] = predictPlacements(evicted, {
      node: nodeName(0),
      nodes,
      pods: registry,
      replacementExpected: true,
    });
    expect(waiting?.summary).toContain("until the replacement node joins");
  });

  it("finds the free node in the same zone when there is one; the zone spread rules out the others", () => {
    const more = [...nodes, node(3), node(4)]; // node 3 in zone a, node 4 in zone b
    const evicted = classifyPods([registry[0]], NO_FLAGS).evict;
    const [placement] = predictPlacements(evicted, { node: nodeName(0), nodes: more, pods: registry });
    expect(placement?.candidates).toEqual([nodeName(3)]);
  });

  it("honours cordons, NotReady nodes, taints and node selectors", () => {
    const app = pod("web", 0, { spec: { nodeSelector: { "topology.kubernetes.io/zone": "eu-west-1b" } } });
    const others = [node(0), node(1, { spec: { unschedulable: true } }), node(2), node(4)];
    const [placement] = predictPlacements(classifyPods([app], NO_FLAGS).evict, {
      node: nodeName(0),
      nodes: others,
      pods: [app],
    });
    expect(placement?.candidates).toEqual([nodeName(4)]);
    const tainted = [
      node(0),
      node(4, { spec: { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] } }),
    ];
    const [none] = predictPlacements(classifyPods([app], NO_FLAGS).evict, {
      node: nodeName(0),
      nodes: tainted,
      pods: [app],
    });
    expect(none?.summary).toContain("taint dedicated");
    const tolerant = pod("web", 0, {
      spec: {
        nodeSelector: { "topology.kubernetes.io/zone": "eu-west-1b" },
        tolerations: [{ key: "dedicated", operator: "Exists" }],
      },
    });
    const [ok] = predictPlacements(classifyPods([tolerant], NO_FLAGS).evict, {
      node: nodeName(0),
      nodes: tainted,
      pods: [tolerant],
    });
    expect(ok?.candidates).toEqual([nodeName(4)]);
  });
});

describe("preflight", () => {
  const budget = (name: string, allowed: number, extra: Any = {}): Any => ({
    metadata: { name, namespace: extra.namespace ?? "clouddrove" },
    spec: {
      selector: { matchLabels: extra.labels ?? REGISTRY_LABELS },
      ...(extra.spec ?? { maxUnavailable: 1 }),
    },
    status: { disruptionsAllowed: allowed, currentHealthy: 3, desiredHealthy: 3 - allowed },
  });
  const deployment = (ready = 3): Any => ({
    metadata: { generation: 2 },
    status: { observedGeneration: 2, readyReplicas: ready, updatedReplicas: 3, availableReplicas: ready },
  });
  const facts = (extra: Partial<PreflightFacts> = {}): PreflightFacts => {
    const registry = [registryPod(0), registryPod(1), registryPod(2)];
    return {
      node: nodeName(0),
      nodes: [node(0), node(1), node(2)],
      podsOnNode: [registry[0]],
      allPods: registry,
      budgets: [budget("registry-clouddrove", 1)],
      registry: deployment(),
      replicas: 3,
      ...extra,
    };
  };

  it("passes a healthy cluster and rehearses the drain", () => {
    const result = evaluatePreflight(facts(), NO_FLAGS);
    expect(result.blocking).toEqual([]);
    expect(result.nodeInfo).toMatchObject({ nodegroup: "ng-eu-west-1a", zone: "eu-west-1a" });
    expect(rehearsalLines(result)).toEqual([
      `evict clouddrove/registry-0: managed by ReplicaSet/registry-0-rs; will stay Pending until ${nodeName(0)} is schedulable again (uncordon): anti-affinity, 2 other nodes taken`,
      "budget clouddrove/registry-clouddrove: 1 disruption(s) allowed for clouddrove/registry-0",
    ]);
  });

  it("stops on a budget that allows no disruption, naming it and its rule", () => {
    const blocked = evaluatePreflight(
      facts({ budgets: [budget("strict", 0, { spec: { minAvailable: 3 } })] }),
      NO_FLAGS,
    );
    expect(blocked.blocking).toHaveLength(1);
    expect(blocked.blocking[0]).toMatch(
      /^PodDisruptionBudget clouddrove\/strict allows 0 disruptions \(minAvailable 3; 3 healthy, 3 required\)/,
    );
  });

  it("stops on a pod under two budgets (the Eviction API refuses it with 500)", () => {
    const result = evaluatePreflight(facts({ budgets: [budget("a", 1), budget("b", 1)] }), NO_FLAGS);
    expect(result.blocking[0]).toContain("selected by 2 PodDisruptionBudgets (a, b)");
  });

  it("stops on a missing node, a NotReady or cordoned node, a registry short of replicas, a blocking pod", () => {
    expect(evaluatePreflight(facts({ node: "nope" }), NO_FLAGS).blocking[0]).toMatch(
      /^there is no node nope \(nodes: /,
    );
    const unready = evaluatePreflight(
      facts({ nodes: [node(0), node(1, { ready: false }), node(2)] }),
      NO_FLAGS,
    );
    expect(unready.blocking).toEqual([`node ${nodeName(1)} is not Ready`]);
    const cordoned = evaluatePreflight(
      facts({ nodes: [node(0), node(1), node(2, { spec: { unschedulable: true } })] }),
      NO_FLAGS,
    );
    expect(cordoned.blocking[0]).toContain("another maintenance is in progress");
    expect(evaluatePreflight(facts({ registry: deployment(2) }), NO_FLAGS).blocking[0]).toContain(
      "2/3 ready",
    );
    const bare = pod("bare", 0, { owner: null });
    const blocked = evaluatePreflight(facts({ podsOnNode: [registryPod(0), bare] }), NO_FLAGS);
    expect(blocked.blocking[0]).toContain("cannot evict 1 pod(s)");
    expect(blocked.blocking[1]).toContain("clouddrove/bare");
  });

  it("on --resume accepts the node cordoned by the run and the registry one replica short", () => {
    const resumed = evaluatePreflight(
      facts({
        nodes: [node(0, { spec: { unschedulable: true } }), node(1), node(2)],
        registry: deployment(2),
        resuming: true,
      }),
      NO_FLAGS,
    );
    expect(resumed.blocking).toEqual([]);
  });
});
