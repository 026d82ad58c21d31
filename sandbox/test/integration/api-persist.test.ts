/** The sandbox's state on disk, its kubeconfig, and the discovery documents clients read first. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startSandbox } from "../../src/index.js";
import { loadState, resetState } from "../../src/persist.js";
import { ApiError } from "../../src/types.js";

describe("sandbox state on disk", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "clouddrove-sandbox-state-"));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("saves objects, resourceVersion, simulated time, token and certificate, and resumes from them", async () => {
    const stateDir = join(dir, "state");
    const first = await startSandbox({ controllers: false, stateDir, manualClock: true });
    first.store.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "kept", namespace: "default" },
      data: { a: "1" },
    });
    await first.clock.advance?.(60_000);
    const rv = first.store.resourceVersion;
    const simulatedNow = first.clock.now();
    await first.stop();
    expect(statSync(join(stateDir, "state.json")).mode & 0o777).toBe(0o600);

    const second = await startSandbox({ controllers: false, stateDir, manualClock: true });
    try {
      expect(second.store.get("ConfigMap", "default", "kept")?.data).toEqual({ a: "1" });
      expect(second.store.resourceVersion).toBe(rv);
      expect(second.clock.now()).toBe(simulatedNow);
      expect(second.token).toBe(first.token);
      expect(second.certificate).toBe(first.certificate);
      // History before the restart is gone: a watch from an older version gets 410.
      expect(() => second.store.watch("ConfigMap", { resourceVersion: "1" }, () => {})).toThrow(ApiError);
      const next = second.store.create({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "new", namespace: "default" },
      });
      expect(Number(next.metadata.resourceVersion)).toBe(Number(rv) + 1);
    } finally {
      await second.stop();
    }
    expect(await resetState(stateDir)).toBe(true);
    expect(await loadState(stateDir)).toBeUndefined();
    expect(await resetState(stateDir)).toBe(false);
  });

  it("refuses a damaged state file with a hint to reset", async () => {
    const stateDir = join(dir, "broken");
    await startSandbox({ controllers: false, stateDir }).then((s) => s.stop());
    writeFileSync(join(stateDir, "state.json"), "{not json");
    await expect(startSandbox({ controllers: false, stateDir })).rejects.toMatchObject({
      hint: "Run `clouddrove sandbox reset` to start the sandbox over.",
    });
  });

  it("adds its context to an existing kubeconfig without touching the others", async () => {
    const path = join(dir, "config");
    writeFileSync(
      path,
      "apiVersion: v1\nkind: Config\nclusters: [{name: prod, cluster: {server: https://prod.example}}]\nusers: [{name: prod, user: {token: x}}]\ncontexts: [{name: prod, context: {cluster: prod, user: prod}}]\ncurrent-context: prod\n",
    );
    const sandbox = await startSandbox({ controllers: false });
    try {
      sandbox.writeKubeconfig(path);
      const document = parse(readFileSync(path, "utf8"));
      expect(document["current-context"]).toBe("prod");
      expect(document.contexts.map((c: { name: string }) => c.name)).toEqual(["prod", "clouddrove-sandbox"]);
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(path);
      kc.setCurrentContext("clouddrove-sandbox");
      const namespaces = await kc.makeApiClient(k8s.CoreV1Api).listNamespace();
      expect(namespaces.items.map((n) => n.metadata?.name)).toContain("kube-system");
    } finally {
      await sandbox.stop();
    }
  });
});

describe("discovery", () => {
  it("serves /version, the group list and resource lists with subresources, and OpenAPI v3 for apply", async () => {
    const sandbox = await startSandbox({ controllers: false, kubernetesVersion: "1.33" });
    const kc = new k8s.KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    try {
      const version = await kc.makeApiClient(k8s.VersionApi).getCode();
      expect(version).toMatchObject({ major: "1", minor: "33+" });
      expect(version.gitVersion).toMatch(/^v1\.33\.\d+-eks-/);
      const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
      expect(groups.groups.map((g) => g.name)).toEqual([
        "discovery.k8s.io",
        "apps",
        "policy",
        "networking.k8s.io",
        "batch",
        "coordination.k8s.io",
        "storage.k8s.io",
        "snapshot.storage.k8s.io",
      ]);
      const core = await kc.makeApiClient(k8s.CoreV1Api).getAPIResources();
      const eviction = core.resources.find((r) => r.name === "pods/eviction");
      expect(eviction).toMatchObject({ group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] });
      const deployments = await kc.makeApiClient(k8s.AppsV1Api).getAPIResources();
      expect(deployments.resources.find((r) => r.name === "deployments")?.shortNames).toEqual(["deploy"]);
      expect(deployments.resources.find((r) => r.name === "deployments/scale")?.kind).toBe("Scale");
    } finally {
      await sandbox.stop();
    }
  });
});
