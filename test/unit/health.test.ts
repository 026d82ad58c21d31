import { describe, expect, it } from "vitest";
import { evaluateHealth } from "../../src/core/health/evaluate.js";
import { healthReportText } from "../../src/core/health/report-text.js";
import { expectations, healthySnapshot } from "../support/health-fixtures.js";

describe("health evaluation", () => {
  it("a registry with 3 ready replicas on 3 nodes in 3 zones is healthy", () => {
    const report = evaluateHealth(healthySnapshot(), expectations);
    expect(report.problems).toEqual([]);
    expect(report.healthy).toBe(true);
    expect(report.registry).toMatchObject({ image: "registry:2.8.2", desired: 3, ready: 3, rolledOut: true });
    expect(report.nodes.map((n) => n.zone)).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    expect(report.registry.pods.every((p) => p.ready && p.zone)).toBe(true);
    expect(report.service).toEqual({ address: "a1b2.elb.eu-west-1.amazonaws.com", endpoints: 3 });
  });

  it("explains a Pending replica with the scheduler's message", () => {
    const snapshot = healthySnapshot();
    const pending = snapshot.pods[2];
    if (!pending) throw new Error("fixture");
    if (pending.spec) pending.spec.nodeName = undefined;
    pending.status = {
      phase: "Pending",
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message:
            "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match pod anti-affinity rules.",
        },
      ],
    };
    Object.assign(snapshot.deployment?.status ?? {}, { readyReplicas: 2, availableReplicas: 2 });
    snapshot.endpoints = { subsets: [{ addresses: [{ ip: "a" }, { ip: "b" }] }] };
    const report = evaluateHealth(snapshot, expectations);
    expect(report.healthy).toBe(false);
    expect(report.problems).toContain(
      "2/3 replicas ready (updated 3, available 2): registry-clouddrove-abc-2 Pending: 0/3 nodes are available: " +
        "1 node(s) were unschedulable, 2 node(s) didn't match pod anti-affinity rules.",
    );
    expect(report.problems).toContain("the Service has 2 endpoint(s), expected 3");
  });

  it.each([
    [
      "a NotReady node",
      (s: ReturnType<typeof healthySnapshot>) => {
        s.nodes[0]!.status!.conditions![0]!.status = "False";
      },
      "node node-0 is not Ready",
    ],
    [
      "a cordoned node",
      (s: ReturnType<typeof healthySnapshot>) => {
        s.nodes[1]!.spec!.unschedulable = true;
      },
      "node node-1 is cordoned (unschedulable)",
    ],
    [
      "memory pressure",
      (s: ReturnType<typeof healthySnapshot>) => {
        s.nodes[2]!.status!.conditions![1]!.status = "True";
      },
      "node node-2 reports MemoryPressure",
    ],
    [
      "an unbound claim",
      (s: ReturnType<typeof healthySnapshot>) => {
        s.claim!.status!.phase = "Pending";
      },
      "claim registry-clouddrove-data is Pending, not Bound",
    ],
    [
      "no load balancer address",
      (s: ReturnType<typeof healthySnapshot>) => {
        s.service!.status = {};
      },
      "the load balancer has no address yet",
    ],
    [
      "a missing NetworkPolicy",
      (s: ReturnType<typeof healthySnapshot>) => {
        s.networkPolicies.pop();
      },
      "NetworkPolicy registry-clouddrove-ingress is missing",
    ],
    [
      "an unhealthy disruption budget",
      (s: ReturnType<typeof healthySnapshot>) => {
        s.disruptionBudget!.status!.currentHealthy = 1;
      },
      "the PodDisruptionBudget has 1 healthy of 2 required",
    ],
    [
      "a failed backup",
      (s: ReturnType<typeof healthySnapshot>) => {
        s.backupJobs = [
          {
            metadata: {
              name: "registry-clouddrove-backup-29000000",
              // The server's JSON: an RFC 3339 string where the model says Date.
              creationTimestamp: "2026-11-26T03:00:00Z" as unknown as Date,
            },
            status: { conditions: [{ type: "Failed", status: "True" }] },
          },
        ];
      },
      "the last backup job registry-clouddrove-backup-29000000 failed",
    ],
    [
      "a rollout not yet observed",
      (s: ReturnType<typeof healthySnapshot>) => {
        s.deployment!.metadata!.generation = 3;
      },
      "the Deployment's latest change has not been observed by its controller yet",
    ],
    [
      "a wrong image",
      (s: ReturnType<typeof healthySnapshot>) => {
        s.deployment!.spec!.template.spec!.containers[0]!.image = "registry:2.7.1";
      },
      "the Deployment runs registry:2.7.1, expected registry:2.8.2",
    ],
  ])("reports %s", (_what, breakIt, problem) => {
    const snapshot = healthySnapshot();
    breakIt(snapshot);
    const report = evaluateHealth(snapshot, expectations);
    expect(report.healthy).toBe(false);
    expect(report.problems).toContain(problem);
  });

  it("reports pods stuck elsewhere in the cluster, but not a finished Job's failed pods", () => {
    const snapshot = healthySnapshot();
    snapshot.troubledPods = [
      {
        metadata: { name: "coredns-x", namespace: "kube-system" },
        status: {
          phase: "Pending",
          conditions: [{ type: "PodScheduled", status: "False", message: "0/3 nodes are available" }],
        },
      },
      {
        metadata: {
          name: "registry-clouddrove-backup-1-abc",
          namespace: "clouddrove",
          ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "backup-1", uid: "u-1" }],
        },
        status: { phase: "Failed" },
      },
    ];
    const report = evaluateHealth(snapshot, expectations);
    expect(report.problems).toEqual(["pod kube-system/coredns-x Pending: 0/3 nodes are available"]);
  });

  it("reports replicas that share a node", () => {
    const snapshot = healthySnapshot();
    snapshot.pods[1]!.spec!.nodeName = "node-0";
    const report = evaluateHealth(snapshot, expectations);
    expect(report.problems.join("\n")).toContain("3 replicas on 2 node(s)");
  });

  it("reports a crash-looping replica's reason", () => {
    const snapshot = healthySnapshot();
    const pod = snapshot.pods[0]!;
    pod.status!.conditions![1]!.status = "False";
    pod.status!.containerStatuses![0] = {
      name: "registry",
      image: "registry:2.8.2",
      imageID: "",
      ready: false,
      restartCount: 4,
      state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s restarting failed container" } },
    };
    const report = evaluateHealth(snapshot, expectations);
    expect(report.problems.join("\n")).toContain("registry-clouddrove-abc-0 CrashLoopBackOff: back-off 40s");
    expect(report.problems).toContain("registry-clouddrove-abc-0 is crash-looping");
    expect(report.registry.pods[0]?.restarts).toBe(4);
  });

  it("checks kubelet versions when an upgrade expects one", () => {
    const report = evaluateHealth(healthySnapshot(), { ...expectations, kubeletVersion: "v1.34" });
    expect(report.problems).toContain("node node-0 runs kubelet v1.33.5-eks-1234, expected v1.34");
  });
});

describe("the last backup's time in status", () => {
  const now = new Date("2026-12-06T22:48:42Z");
  const finished = (completionTime: string | Date) => {
    const snapshot = healthySnapshot();
    snapshot.backupJobs = [
      {
        metadata: {
          name: "registry-clouddrove-backup-29000000",
          creationTimestamp: "2026-12-06T03:00:00Z" as unknown as Date,
        },
        status: {
          completionTime: completionTime as Date,
          conditions: [{ type: "Complete", status: "True" }],
        },
      },
    ];
    return evaluateHealth(snapshot, expectations);
  };

  it("is ISO 8601 in UTC with its age beside it, also when the time came as a Date", () => {
    for (const completionTime of ["2026-12-06T03:00:12.000Z", new Date("2026-12-06T03:00:12Z")]) {
      const report = finished(completionTime);
      expect(report.backup.finishedAt).toBe("2026-12-06T03:00:12Z");
      expect(healthReportText(report, "ctx", now)).toContain(
        "Last backup:      registry-clouddrove-backup-29000000 succeeded at 2026-12-06T03:00:12Z (19h 48m ago)",
      );
    }
  });

  it("gives days for an old backup", () => {
    const report = finished("2026-12-03T21:00:00Z");
    expect(healthReportText(report, "ctx", now)).toContain("at 2026-12-03T21:00:00Z (3d 1h ago)");
  });
});
