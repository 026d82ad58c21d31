/**
 * src/adapters/kube-paths.ts against the sandbox's discovery (which serves what the Kubernetes API
 * serves): every built-in kind's resource name and scope agree with discovery, other kinds are found
 * through it, and only a 404 makes a kind "not served".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { resolveKubeconfig } from "../../src/adapters/kube-config.js";
import { KubeHttp } from "../../src/adapters/kube-http.js";
import { BUILT_IN, groupVersionPath, ResourcePaths, resourcePath } from "../../src/adapters/kube-paths.js";

let sandbox: TestSandbox;
let http: KubeHttp;
beforeAll(async () => {
  sandbox = await startTestSandbox();
  http = new KubeHttp(resolveKubeconfig({ path: sandbox.kubeconfigPath, env: {} }), {});
});
afterAll(async () => {
  http.close();
  await sandbox.stop();
});

describe("ResourcePaths", () => {
  it("knows each built-in kind as discovery describes it", async () => {
    const served = new Set<string>();
    for (const [key, resource] of BUILT_IN) {
      const kind = key.slice(key.lastIndexOf("/") + 1);
      const apiVersion = key.slice(0, key.lastIndexOf("/"));
      const answer = await http.request({ method: "GET", path: groupVersionPath(apiVersion) });
      if (answer.status === 404) continue; // a group the sandbox does not serve (checked against the real API elsewhere)
      const entry = (
        JSON.parse(answer.text).resources as Array<{ name: string; kind: string; namespaced: boolean }>
      ).find((r) => r.kind === kind && !r.name.includes("/"));
      if (!entry) continue;
      served.add(key);
      expect({ key, plural: resource.plural, namespaced: resource.namespaced }).toEqual({
        key,
        plural: entry.name,
        namespaced: entry.namespaced,
      });
    }
    // The kinds clouddrove writes are all among them.
    for (const key of [
      "v1/Namespace",
      "v1/Secret",
      "apps/v1/Deployment",
      "policy/v1/PodDisruptionBudget",
      "networking.k8s.io/v1/NetworkPolicy",
      "batch/v1/CronJob",
    ])
      expect(served).toContain(key);
  });

  it("finds other kinds through discovery, and says a group that answers 404 is not served", async () => {
    const paths = new ResourcePaths(http);
    const snapshot = await paths.resource("snapshot.storage.k8s.io/v1", "VolumeSnapshot");
    expect(snapshot).toEqual({
      group: "snapshot.storage.k8s.io",
      version: "v1",
      plural: "volumesnapshots",
      namespaced: true,
    });
    expect(resourcePath(snapshot!, { namespace: "a", name: "b" })).toBe(
      "/apis/snapshot.storage.k8s.io/v1/namespaces/a/volumesnapshots/b",
    );
    expect(await paths.resource("example.com/v1", "Widget")).toBeUndefined();
  });

  it("reports a discovery failure other than 404 as a failure, and asks again next time", async () => {
    const faulty = sandbox.sandbox.faults.add({
      path: "^/apis/snapshot",
      action: { type: "error", status: 503 },
    });
    const paths = new ResourcePaths(http);
    await expect(paths.resource("snapshot.storage.k8s.io/v1", "VolumeSnapshot")).rejects.toMatchObject({
      statusCode: 503,
    });
    sandbox.sandbox.faults.clear(faulty.id);
    expect((await paths.resource("snapshot.storage.k8s.io/v1", "VolumeSnapshot"))?.plural).toBe(
      "volumesnapshots",
    );
  });

  it("builds the paths of namespaced, cluster-scoped and subresource requests", () => {
    const pod = BUILT_IN.get("v1/Pod")!;
    expect(resourcePath(pod, { namespace: "ns", name: "p", subresource: "eviction" })).toBe(
      "/api/v1/namespaces/ns/pods/p/eviction",
    );
    expect(resourcePath(BUILT_IN.get("v1/Node")!, { namespace: "ignored", name: "n1" })).toBe(
      "/api/v1/nodes/n1",
    );
    expect(resourcePath(BUILT_IN.get("apps/v1/Deployment")!)).toBe("/apis/apps/v1/deployments");
  });
});
