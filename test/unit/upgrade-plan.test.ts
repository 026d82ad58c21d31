/**
 * The upgrade's rules as plain data: the version-skew policy, registry targets, the state record (what is
 * unfinished), the rule that decides whether the registry may go back, the runbook, and what a failure
 * report says about the node and the registry.
 */

import { describe, expect, it } from "vitest";
import { imageTag, withTag } from "../../src/core/registry/image.js";
import { upgradeEffects } from "../../src/core/upgrade/confirmation.js";
import { leftStateDetails, upgradeReportText } from "../../src/core/upgrade/report.js";
import { CHECK_REPOSITORY, fingerprintOf, rollbackVerdict } from "../../src/core/upgrade/rollback-rule.js";
import { runbook } from "../../src/core/upgrade/runbook.js";
import { isUnfinished, newState, nodeAnnotation, parseState, reached } from "../../src/core/upgrade/state.js";
import {
  describeTargets,
  registryVersionProblem,
  skewProblem,
  targetConflicts,
} from "../../src/core/upgrade/targets.js";
import { staleVersionConsequence } from "../../src/core/upgrade/version-note.js";

describe("version-skew policy for a kubelet", () => {
  const check = (target: string, nodeKubelet = "v1.32.9-eks-1a2b3c4", controlPlane = "v1.33.5-eks-abc") =>
    skewProblem({ controlPlane, nodeKubelet, target, node: "n1" });

  it("allows one minor up to the control plane's version, and the same version", () => {
    expect(check("1.33")).toBeUndefined();
    expect(check("1.32")).toBeUndefined();
  });

  it("refuses a kubelet newer than the control plane, a skipped minor, a downgrade, too old, bad text", () => {
    expect(check("1.34")).toContain("may not be newer than the control plane: 1.34 > 1.33");
    expect(check("1.33", "v1.31.13-eks-1")).toContain(
      "skips 1 minor version(s): upgrade one minor at a time (1.31 -> 1.32)",
    );
    expect(check("1.31")).toContain("is a downgrade");
    expect(check("1.29", "v1.28.15")).toContain(
      "at most 3 minors older than the control plane (1.33): 1.29 is 4 older",
    );
    expect(check("1.33.1")).toContain("is not a Kubernetes minor version");
    expect(check("2.0")).toContain("another major version");
  });
});

describe("targets", () => {
  it("knows registry 2.x -> 3.x and refuses a major downgrade or a non-release", () => {
    expect(registryVersionProblem("2.8.2", "3.0.0")).toBeUndefined();
    expect(registryVersionProblem("2.8.2", "2.8.3")).toBeUndefined();
    expect(registryVersionProblem("3.0.0", "2.8.2")).toContain("downgrade across a major version");
    expect(registryVersionProblem("2.8.2", "latest")).toContain("not a registry release");
    expect(registryVersionProblem("2.8.2", "4.0.0")).toContain("only Distribution 2.x and 3.x");
  });

  it("refuses a node replacement and an in-place command in one window", () => {
    expect(targetConflicts({ kubernetesVersion: "1.33", upgradeCommand: "x" })).toContain("choose one");
    expect(targetConflicts({ registryVersion: "3.0.0", kubernetesVersion: "1.33" })).toBeUndefined();
    expect(describeTargets({ registryVersion: "3.0.0", kubernetesVersion: "1.33" })).toBe(
      "registry 3.0.0 + Kubernetes 1.33",
    );
  });

  it("reads and replaces image tags, registry ports and digests included", () => {
    expect(imageTag("registry:2.8.2")).toBe("2.8.2");
    expect(imageTag("mirror.example:5000/library/registry")).toBe("latest");
    expect(withTag("mirror.example:5000/library/registry:2.8.2", "3.0.0")).toBe(
      "mirror.example:5000/library/registry:3.0.0",
    );
    expect(withTag("registry@sha256:abc", "3.0.0")).toBe("registry:3.0.0");
  });
});

describe("the state record", () => {
  const base = () =>
    newState({
      targets: { registryVersion: "3.0.0" },
      nodes: ["a", "b"],
      allNodes: true,
      drain: { force: false, deleteEmptyDirData: false },
      registryCheck: true,
      now: "2025-01-01T00:00:00Z",
    });

  it("is unfinished only when something changed: a node mid-way, the registry applied, or nodes done", () => {
    const state = base();
    expect(isUnfinished(state)).toBe(false); // stopped in preflight, check image or backup
    state.progress.a = "drained";
    expect(isUnfinished(state)).toBe(true);
    state.progress.a = "healthy";
    expect(isUnfinished(state)).toBe(true); // b still to do
    state.outcome = "completed";
    expect(isUnfinished(state)).toBe(false);
    expect(reached("bumped", "drained")).toBe(true);
    expect(reached(undefined, "cordoned")).toBe(false);
  });

  it("round-trips as JSON and is shown on the node for kubectl users", () => {
    const state = base();
    state.progress.a = "cordoned";
    expect(parseState(JSON.stringify(state))).toEqual(state);
    expect(parseState("{not json")).toBeUndefined();
    expect(nodeAnnotation(state, "a")).toBe(
      "cordoned (registry 3.0.0) since 2025-01-01T00:00:00Z; resume: clouddrove upgrade --resume, undo: clouddrove upgrade --rollback (ConfigMap registry-clouddrove-upgrade)",
    );
  });
});

describe("may the registry go back?", () => {
  const catalog = [
    { repository: "team/app", tags: ["v1", "v2"] },
    { repository: CHECK_REPOSITORY, tags: ["before-1"] },
  ];
  const before = fingerprintOf(catalog);

  it("fingerprints repositories and tags, leaving out clouddrove's own check image", () => {
    expect(before).toMatchObject({ repositories: 1, tags: 2 });
    expect(fingerprintOf([...catalog, { repository: CHECK_REPOSITORY, tags: ["before-2"] }])).toEqual(before);
    expect(fingerprintOf([{ repository: "team/app", tags: ["v2", "v1"] }])).toEqual(before);
  });

  it("allows it when nothing was added or removed since the bump, refuses otherwise or when unknown", () => {
    const same = rollbackVerdict({ bumped: true, before, now: before, ignoreNewData: false });
    expect(same).toMatchObject({ allowed: true });
    const newer = fingerprintOf([{ repository: "team/app", tags: ["v1", "v2", "v3"] }]);
    const changed = rollbackVerdict({ bumped: true, before, now: newer, ignoreNewData: false });
    expect(changed).toMatchObject({ allowed: false, override: "--ignore-new-data" });
    expect(changed.reason).toContain("2 -> 3 tags");
    const unknown = rollbackVerdict({
      bumped: true,
      before: null,
      beforeNote: "--no-registry-check",
      now: before,
      ignoreNewData: false,
    });
    expect(unknown).toMatchObject({ allowed: false });
    expect(unknown.reason).toContain("--no-registry-check");
    expect(rollbackVerdict({ bumped: true, before: null, now: null, ignoreNewData: true }).allowed).toBe(
      true,
    );
    expect(rollbackVerdict({ bumped: false, before: null, now: null, ignoreNewData: false }).allowed).toBe(
      true,
    );
  });
});

describe("what the operator is told", () => {
  it("the runbook names every command in order, with the node's flags", () => {
    const lines = runbook({
      node: "n1",
      namespace: "clouddrove",
      targets: { kubernetesVersion: "1.33" },
      drain: { force: true, deleteEmptyDirData: true, gracePeriodSeconds: 30, timeoutSeconds: 600 },
      nodegroup: "ng-eu-west-1a",
      cluster: "prod",
      region: "eu-west-1",
      replicas: 3,
    });
    const commands = lines.filter((l) => !l.startsWith("#"));
    expect(commands.indexOf("kubectl cordon n1")).toBeLessThan(
      commands.findIndex((l) => l.startsWith("kubectl drain n1")),
    );
    expect(commands).toContain(
      "kubectl drain n1 --ignore-daemonsets --force --delete-emptydir-data --grace-period=30 --timeout=600s",
    );
    expect(commands).toContain(
      "aws eks update-nodegroup-version --cluster-name prod --nodegroup-name ng-eu-west-1a --kubernetes-version 1.33 --region eu-west-1",
    );
    expect(commands).toContain(
      "aws eks describe-update --name prod --nodegroup-name ng-eu-west-1a --update-id UPDATE_ID --region eu-west-1 --query update.status",
    );
    expect(commands).toContain("kubectl uncordon NEW_NODE");
    expect(commands.at(-1)).toContain("curl -fsS http://127.0.0.1:5000/");
  });

  it("checks a registry that serves TLS over HTTPS, trusting the private CA, at the name its certificate carries", () => {
    const deployment = {
      spec: {
        selector: { matchLabels: { app: "registry" } },
        template: {
          spec: {
            containers: [
              {
                name: "registry",
                image: "registry:2.8.2",
                livenessProbe: { httpGet: { scheme: "HTTPS", port: 5000 } },
              },
            ],
          },
        },
      },
    };
    const commands = runbook({
      node: "n1",
      namespace: "clouddrove",
      targets: { upgradeCommand: "true" },
      drain: { force: false, deleteEmptyDirData: false, timeoutSeconds: 600 },
      deployment,
      replicas: 3,
    }).filter((l) => !l.startsWith("#"));
    expect(commands.slice(-3)).toEqual([
      "kubectl -n clouddrove get configmap registry-clouddrove-ca -o jsonpath='{.data.ca\\.crt}' > registry-ca.crt",
      "kubectl -n clouddrove port-forward deployment/registry-clouddrove 5000:5000 &",
      "curl -fsS --cacert registry-ca.crt --connect-to registry-clouddrove.clouddrove.svc:5000:127.0.0.1:5000 https://registry-clouddrove.clouddrove.svc:5000/ && curl -fsS --cacert registry-ca.crt --connect-to registry-clouddrove.clouddrove.svc:5000:127.0.0.1:5000 -u USER https://registry-clouddrove.clouddrove.svc:5000/v2/   # 200 and 200",
    ]);
    expect(commands.join("\n")).not.toContain("http://");
  });

  it("a failure says the node is cordoned and gives the exact resume and rollback commands", () => {
    const { details, hint } = leftStateDetails({
      node: "n1",
      nodeExists: true,
      cordoned: true,
      podsLeft: 1,
      registryImage: "registry:3.0.0",
      registryReady: 2,
      registryDesired: 3,
      bumped: true,
      clusterFlags: "--sandbox",
    });
    expect(details).toEqual([
      "node n1 is CORDONED (no new pods are scheduled on it) and still runs 1 pod(s) to evict",
      "registry: registry:3.0.0, 2/3 replicas ready (the new version was applied)",
    ]);
    expect(hint).toContain("`clouddrove upgrade --resume --sandbox`");
    expect(hint).toContain("`clouddrove upgrade --rollback --sandbox`");
    expect(hint).toContain("`kubectl uncordon n1`");
  });

  it("the summary states availability and replacements", () => {
    const text = upgradeReportText(
      {
        ok: true,
        dryRun: false,
        node: "n1",
        nodes: ["n1"],
        target: { kubernetesVersion: "1.33" },
        steps: [],
        availability: { minReadyReplicas: 2, unavailableSeconds: 0, degradedSeconds: 12.5 },
        health: null,
        replacements: { n1: "n9" },
        warnings: [],
      },
      "context prod",
    );
    expect(text).toBe(
      [
        "Upgraded node n1 on context prod: Kubernetes 1.33.",
        "Replaced: n1 -> n9",
        "Availability: at least 2 replica(s) ready throughout; 0.0 s with none ready, 12.5 s with fewer than all.",
      ].join("\n"),
    );
  });
});

describe("what an upgrade says it will do before its confirmation", () => {
  it("names the nodes, the target, and that 2 -> 3 is one-way with a backup first", () => {
    const effects = upgradeEffects({
      nodes: ["node-a"],
      targets: { registryVersion: "3.0.0" },
      currentRegistryTag: "2.8.2",
      skipBackup: false,
    });
    expect(effects[0]).toMatch(/^cordon and drain node node-a: /);
    expect(effects).toContain("while drained: registry 3.0.0");
    expect(effects).toContain(
      "registry 2.8.2 -> 3.0.0 is one-way: once the new version has written data, --rollback refuses to move back",
    );
    expect(effects.join("\n")).toContain("backed up first");
  });

  it("says nothing of a one-way move for a command run on every node", () => {
    const effects = upgradeEffects({
      nodes: ["a", "b", "c"],
      targets: { upgradeCommand: "true" },
      currentRegistryTag: "2.8.2",
      skipBackup: false,
    });
    expect(effects[0]).toMatch(/^cordon and drain 3 nodes, one at a time \(a, b, c\)/);
    expect(effects.join("\n")).not.toContain("one-way");
  });
});

describe("what a stale registry.version does next", () => {
  it("a major step back is refused by deploy; a minor one is carried out", () => {
    expect(staleVersionConsequence("2.8.2", "3.0.0")).toContain("refuses to run");
    expect(staleVersionConsequence("2.8.2", "2.8.3")).toBe(
      "the next `clouddrove deploy` moves the registry back to 2.8.2",
    );
  });
});
