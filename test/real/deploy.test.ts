/**
 * deploy and status against a real control plane (test/real/cluster.ts), as a user runs them with
 * --kubeconfig and --context: the rollout, the smoke test and status's logins reaching the real registry
 * processes through port-forwards, a second deploy that changes nothing, prune, and a password rotation.
 * The tests run in order on one cluster; each starts from what the previous one left.
 */
import { describe, expect, it } from "vitest";
import {
  type Any,
  DEPLOY,
  FILE_SYSTEM,
  NAMESPACE,
  pullPassword,
  REGISTRY_SELECTOR,
  useRealCluster,
} from "./cluster.js";

const real = useRealCluster();
/** Authenticated /v2/ requests the registries answered 200 (their access log lines). */
const v2Answers = () =>
  (
    real()
      .registryLogs()
      .match(/"GET \/v2\/ HTTP\/1\.1" 200 /g) ?? []
  ).length;
describe("deploy and status on a real control plane", () => {
  it("deploy rolls out 3 ready replicas on 3 nodes in 3 zones, and its smoke test reaches every real registry", () => {
    const first = real().cli(DEPLOY);
    expect(first.status, `${first.stdout}\n${first.stderr}`).toBe(0);
    // The progress (stderr) names the smoke test's result; the registries' own logs show its requests.
    expect(first.stderr).toMatch(
      /Smoke test: 3 replica\(s\) answer \/ \(200\) and \/v2\/ with the credentials \(200\)/,
    );
    expect(v2Answers()).toBe(3);

    const deployment = real().getJson(["-n", NAMESPACE, "get", "deployment", "registry-clouddrove"]);
    expect(deployment.status.readyReplicas).toBe(3);
    const pods = real()
      .getJson(["-n", NAMESPACE, "get", "pods", "-l", REGISTRY_SELECTOR])
      .items.filter((p: Any) => p.status.phase === "Running" && !p.metadata.deletionTimestamp);
    expect(pods).toHaveLength(3);
    const nodeNames = new Set<string>(pods.map((p: Any) => p.spec.nodeName));
    expect(nodeNames.size).toBe(3);
    const zoneOf = new Map<string, string>(
      real()
        .getJson(["get", "nodes"])
        .items.map((n: Any) => [n.metadata.name, n.metadata.labels["topology.kubernetes.io/zone"]]),
    );
    expect(new Set([...nodeNames].map((n) => zoneOf.get(n)))).toEqual(
      new Set(["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    );
    // Each pod's port-forward goes to its own registry process (a kwok ClusterPortForward per pod).
    const forwards = real().getJson(["get", "clusterportforwards.kwok.x-k8s.io"]).items;
    for (const pod of pods)
      expect(forwards.map((f: Any) => f.spec.selector.matchNames[0])).toContain(pod.metadata.name);

    const claim = real().getJson(["-n", NAMESPACE, "get", "pvc", "registry-clouddrove-data"]);
    expect(claim.status.phase).toBe("Bound");
    const volume = real().getJson(["get", "pv", "registry-clouddrove-data-clouddrove"]);
    expect(volume.spec.csi).toMatchObject({ driver: "efs.csi.aws.com", volumeHandle: FILE_SYSTEM });

    const service = real().getJson(["-n", NAMESPACE, "get", "service", "registry-clouddrove"]);
    const host = service.status.loadBalancer.ingress[0].hostname;
    expect(host).toMatch(/\.elb\.eu-west-1\.amazonaws\.com$/);
    expect(first.stdout).toContain(host);
  });

  it("a second deploy changes nothing", () => {
    const generation = real().getJson(["-n", NAMESPACE, "get", "deployment", "registry-clouddrove"]).metadata
      .generation;
    const second = real().cli([...DEPLOY, "-o", "json"]);
    expect(second.status, `${second.stdout}\n${second.stderr}`).toBe(0);
    const changed = JSON.parse(second.stdout).objects.filter(
      (o: { action: string }) => o.action !== "unchanged",
    );
    expect(changed, JSON.stringify(changed)).toEqual([]);
    expect(
      real().getJson(["-n", NAMESPACE, "get", "deployment", "registry-clouddrove"]).metadata.generation,
    ).toBe(generation);
  });

  it("status is healthy (exit 0) and logs in to every real registry with the pull Secret's credentials", () => {
    const before = v2Answers();
    const run = real().cli(["status", "-o", "json"]);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.healthy).toBe(true);
    expect(report.problems).toEqual([]);
    expect(report.registry).toMatchObject({ desired: 3, ready: 3, rolledOut: true });
    expect(report.nodes).toHaveLength(3);
    // One authenticated /v2/ per replica, answered by the registry processes themselves.
    expect(v2Answers() - before).toBe(3);
  });

  it("prunes an object it labelled as its own and no longer renders, never the claim", () => {
    real().kubectl(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
          name: "leftover",
          namespace: NAMESPACE,
          labels: { "app.kubernetes.io/managed-by": "clouddrove" },
        },
        data: {},
      }),
    );
    const run = real().cli([...DEPLOY, "-o", "json"]);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const actions = Object.fromEntries(
      JSON.parse(run.stdout).objects.map((o: Any) => [`${o.kind}/${o.name}`, o.action]),
    );
    expect(actions["ConfigMap/leftover"]).toBe("pruned");
    expect(real().kubectlRun(["-n", NAMESPACE, "get", "configmap", "leftover"]).stderr).toContain("NotFound");
    expect(real().getJson(["-n", NAMESPACE, "get", "pvc", "registry-clouddrove-data"]).status.phase).toBe(
      "Bound",
    );
  });

  it("deploy --rotate-credentials moves every real registry to a new password without refusing the old one mid-way", () => {
    const old = pullPassword(real());
    expect(old).toBeTruthy();
    const before = v2Answers();
    const run = real().cli([...DEPLOY, "--rotate-credentials"]);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    // Each phase ends with the smoke test against the real registries.
    const smokes = run.stderr.match(
      /Smoke test: 3 replica\(s\) answer \/ \(200\) and \/v2\/ with the credentials \(200\)/g,
    );
    expect(smokes?.length ?? 0).toBeGreaterThanOrEqual(3);
    expect(v2Answers() - before).toBeGreaterThanOrEqual(9);
    const now = pullPassword(real());
    expect(now).toBeTruthy();
    expect(now).not.toBe(old);
    const status = real().cli(["status", "-o", "json"]);
    expect(status.status, `${status.stdout}\n${status.stderr}`).toBe(0);
    expect(JSON.parse(status.stdout).healthy).toBe(true);
  });
});
