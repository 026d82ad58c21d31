/**
 * Distribution 3 in the sandbox: registry:3.x pods run Distribution v3.0.0's own binary (built by
 * scripts/components.sh). The config file is read from /etc/distribution/config.yml unless `serve <path>`
 * names another, so a ConfigMap mounted only at the v2 path is silently ignored (auth off, an empty store
 * in the container's own file system); a storage driver v3 removed makes the container crash-loop, a
 * section v3 removed is ignored; the rendered Deployment, which names its config path, serves the v2 data
 * after the image moves to registry:3; the Deployment as the upgrade migrates it serves it too. Without
 * the binary, a registry:3.x container fails, naming the script that builds it.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/src/index.js";
import { podDirectory } from "../../sandbox/src/runtime/layout.js";
import type { KubeObject as StoredObject } from "../../sandbox/src/types.js";
import type { Kube } from "../../src/adapters/kube.js";
import {
  checkAuth,
  getManifest,
  pushRandomImage,
  type RegistryApiError,
} from "../../src/adapters/registry.js";
import { htpasswdLineOf, registryObjectsAt } from "../../src/core/render/at-version.js";
import { type KubeObject, names } from "../../src/core/render/index.js";
import {
  applyAll,
  connect,
  isReady,
  loadBalancerUrl,
  NAMESPACE,
  readyRegistryPods,
  renderedRegistry,
  throughPortForward,
  until,
  withCredentials,
} from "./sandbox-runtime-support.js";

// biome-ignore lint/suspicious/noExplicitAny: reads into rendered JSON objects
type Any = any;

/** A standalone pod built from the rendered Deployment's pod template, changed by `edit`. */
function podFrom(deployment: KubeObject, name: string, edit: (spec: Any) => void): StoredObject {
  const spec = structuredClone((deployment as Any).spec.template.spec);
  delete spec.affinity;
  delete spec.topologySpreadConstraints;
  delete spec.initContainers;
  spec.terminationGracePeriodSeconds = 5;
  edit(spec);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NAMESPACE, labels: { test: "v3" } },
    spec,
  };
}

function mountAt(spec: Any, volume: string, mountPath: string): void {
  const mount = spec.containers[0].volumeMounts.find((m: Any) => m.name === volume);
  mount.mountPath = mountPath;
}

async function refusal(promise: Promise<unknown>): Promise<RegistryApiError> {
  return promise.then(
    () => {
      throw new Error("expected the registry to refuse");
    },
    (error: RegistryApiError) => error,
  );
}

describe("registry:3 in the sandbox", () => {
  let sandbox: Sandbox;
  let kube: Kube;
  let objects: KubeObject[];
  let deployment: KubeObject;
  let pushed: { manifestDigest: string };
  /** Waits until the registry's 3 replicas run `image` (and match `also`), ready, each with its process. */
  const allReplicasOn = (image: string, also: (pod: StoredObject) => boolean = () => true) =>
    until(`every replica on ${image}, ready`, () => {
      const pods = sandbox.store
        .list("Pod", { namespace: NAMESPACE, labelSelector: names.registryPodSelector })
        .filter((p) => !p.metadata.deletionTimestamp);
      const done =
        pods.length === 3 &&
        pods.every(
          (p) =>
            p.spec.containers[0].image === image &&
            also(p) &&
            isReady(p) &&
            sandbox.runtime?.processes.hasProcess(NAMESPACE, p.metadata.name),
        );
      return done ? pods : undefined;
    });
  const createPod = async (pod: StoredObject) => {
    sandbox.store.create(pod);
    return until(`pod ${pod.metadata.name} ready`, () => {
      const current = sandbox.store.get("Pod", NAMESPACE, pod.metadata.name);
      return isReady(current) && sandbox.runtime?.processes.hasProcess(NAMESPACE, pod.metadata.name)
        ? current
        : undefined;
    });
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ speed: 200 });
    kube = await connect(sandbox);
    objects = await renderedRegistry();
    deployment = objects.find((o) => o.kind === "Deployment")!;
    await applyAll(kube, objects);
    await readyRegistryPods(sandbox);
    const url = await until("the load balancer address", () => loadBalancerUrl(sandbox));
    pushed = await pushRandomImage(withCredentials(url), "team/app", "v1");
  });

  afterAll(async () => {
    expect(sandbox?.controllers?.errors).toEqual([]);
    await sandbox?.stop();
  });

  it("ignores a config mounted only at the v2 path: no auth, and a store the pod takes with it", async () => {
    const pod = await createPod(
      podFrom(deployment, "v3-old-path", (spec) => {
        spec.containers[0].image = "registry:3.0.0";
        delete spec.containers[0].args; // the image's CMD: /etc/distribution/config.yml
      }),
    );
    expect(sandbox.runtime?.processes.logs(NAMESPACE, "v3-old-path", {})).toContain("version=3.0.0");
    await throughPortForward(kube, "v3-old-path", async (baseUrl) => {
      expect(await checkAuth({ baseUrl })).toBe(200); // no auth: anyone may push
      const error = await refusal(getManifest({ baseUrl }, "team/app", "v1"));
      expect(error.status).toBe(404);
      await pushRandomImage({ baseUrl }, "lost/app", "v1");
    });
    // The image's default root, /var/lib/registry, is on no volume: the data went to the pod's own
    // file system, not to the claim, and goes away with the pod.
    const ownDir = podDirectory(sandbox.runtime!.dataDir, pod.metadata.uid!);
    expect(existsSync(`${ownDir}/rootfs/var/lib/registry/docker/registry/v2/repositories/lost/app`)).toBe(
      true,
    );
    const claimRepositories = `${sandbox.runtime!.dataDir}/efs/fs-0123456789abcdef0/docker/registry/v2/repositories`;
    expect(existsSync(`${claimRepositories}/team/app`)).toBe(true);
    expect(existsSync(`${claimRepositories}/lost`)).toBe(false);
    await kube.delete("v1", "Pod", "v3-old-path", NAMESPACE);
    await until("the pod and its own directory gone", () => !existsSync(ownDir));
  });

  it("reads a config mounted at /etc/distribution and serves the v2 data with auth", async () => {
    await createPod(
      podFrom(deployment, "v3-new-path", (spec) => {
        spec.containers[0].image = "registry:3.0.0";
        delete spec.containers[0].args;
        mountAt(spec, "config", "/etc/distribution");
      }),
    );
    await throughPortForward(kube, "v3-new-path", async (baseUrl) => {
      expect(await checkAuth({ baseUrl })).toBe(401);
      expect((await getManifest(withCredentials(baseUrl), "team/app", "v1")).digest).toBe(
        pushed.manifestDigest,
      );
    });
    await kube.delete("v1", "Pod", "v3-new-path", NAMESPACE);
  });

  it("restarts a container whose image changes in place as the new version, on the same data", async () => {
    const pod = await createPod(podFrom(deployment, "in-place", () => {}));
    const before = sandbox.runtime!.processes.describe(NAMESPACE, "in-place")[0]!;
    const changed = structuredClone(pod);
    changed.spec.containers[0].image = "registry:3.0.0";
    sandbox.store.update(changed);
    const status = await until("the container restarted on registry:3.0.0", () => {
      const current = sandbox.store.get("Pod", NAMESPACE, "in-place");
      const container = current?.status?.containerStatuses?.[0];
      return container?.image === "registry:3.0.0" && container.restartCount === 1 && isReady(current)
        ? container
        : undefined;
    });
    const after = sandbox.runtime!.processes.describe(NAMESPACE, "in-place")[0]!;
    expect(after.containerID).toBe(status.containerID);
    expect(after.pid).not.toBe(before.pid);
    expect(sandbox.runtime?.processes.logs(NAMESPACE, "in-place", { previous: true })).toContain(
      "version=2.8.2",
    );
    expect(sandbox.runtime?.processes.logs(NAMESPACE, "in-place", {})).toContain("version=3.0.0");
    await throughPortForward(kube, "in-place", async (baseUrl) => {
      expect((await getManifest(withCredentials(baseUrl), "team/app", "v1")).digest).toBe(
        pushed.manifestDigest,
      );
    });
    await kube.delete("v1", "Pod", "in-place", NAMESPACE);
  });

  it("crash-loops on a storage driver Distribution 3 removed, and ignores a section it removed", async () => {
    const configYml = (objects.find((o) => o.kind === "ConfigMap") as Any).data["config.yml"];
    sandbox.store.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "v3-removed-keys", namespace: NAMESPACE },
      data: {
        "reporting.yml": `${configYml}reporting:\n  bugsnag:\n    apikey: abc\n`,
        "swift.yml": "version: 0.1\nstorage:\n  swift:\n    container: registry\nhttp:\n  addr: :5000\n",
      },
    });
    const withConfig = (name: string, file: string) =>
      podFrom(deployment, name, (spec) => {
        spec.containers[0].image = "registry:3.0.0";
        spec.containers[0].args = ["serve", `/etc/distribution/${file}`];
        mountAt(spec, "config", "/etc/distribution");
        spec.volumes.find((v: Any) => v.name === "config").configMap = { name: "v3-removed-keys" };
      });
    sandbox.store.create(withConfig("v3-swift", "swift.yml"));
    const status = await until("v3-swift in CrashLoopBackOff", () => {
      const container = sandbox.store.get("Pod", NAMESPACE, "v3-swift")?.status?.containerStatuses?.[0];
      return container?.state?.waiting?.reason === "CrashLoopBackOff" ? container : undefined;
    });
    expect(status.restartCount).toBeGreaterThanOrEqual(1);
    expect(status.lastState.terminated.exitCode).toBe(2); // Go's exit code for a panic
    expect(sandbox.runtime?.processes.logs(NAMESPACE, "v3-swift", { previous: true })).toContain(
      "panic: StorageDriver not registered: swift",
    );
    expect(isReady(sandbox.store.get("Pod", NAMESPACE, "v3-swift"))).toBe(false);
    // 3.0.0 reads its config without strict field checks: the bugsnag settings are dropped without a word.
    await createPod(withConfig("v3-reporting", "reporting.yml"));
    await throughPortForward(kube, "v3-reporting", async (baseUrl) => {
      expect((await getManifest(withCredentials(baseUrl), "team/app", "v1")).digest).toBe(
        pushed.manifestDigest,
      );
    });
    await kube.delete("v1", "Pod", "v3-swift", NAMESPACE);
    await kube.delete("v1", "Pod", "v3-reporting", NAMESPACE);
  });

  it("serves the v2 data after the rendered Deployment moves to registry:3.0.0 (it names its config path)", async () => {
    const upgraded = structuredClone(deployment) as Any;
    upgraded.spec.template.spec.containers[0].image = "registry:3.0.0";
    await kube.apply(upgraded);
    await allReplicasOn("registry:3.0.0");
    const url = loadBalancerUrl(sandbox)!;
    expect(await checkAuth({ baseUrl: url })).toBe(401);
    expect((await getManifest(withCredentials(url), "team/app", "v1")).digest).toBe(pushed.manifestDigest);
  });

  it("runs the configuration the upgrade migrates, at /etc/distribution/config.yml", async () => {
    const find = (kind: string) => objects.find((o) => o.kind === kind) as Any;
    const migrated = await registryObjectsAt(
      find("ConfigMap"),
      deployment,
      "3.0.0",
      htpasswdLineOf(objects.find((o) => o.kind === "Secret" && o.metadata.name === names.htpasswdSecret)),
    );
    await kube.apply(migrated.configMap as KubeObject);
    await kube.apply(migrated.deployment as KubeObject);
    const pods = await allReplicasOn("registry:3.0.0", (p) =>
      (p.spec.containers[0].args ?? []).includes("/etc/distribution/config.yml"),
    );
    for (const pod of pods) {
      const [run] = sandbox.runtime!.processes.describe(NAMESPACE, pod.metadata.name);
      expect(run?.pid).toBeDefined();
      expect(sandbox.runtime?.processes.logs(NAMESPACE, pod.metadata.name, {})).toContain("version=3.0.0");
    }
    const url = loadBalancerUrl(sandbox)!;
    expect(await checkAuth({ baseUrl: url })).toBe(401);
    expect((await getManifest(withCredentials(url), "team/app", "v1")).digest).toBe(pushed.manifestDigest);
    const second = await pushRandomImage(withCredentials(url), "team/app", "v2");
    expect((await getManifest(withCredentials(url), "team/app", "v2")).digest).toBe(second.manifestDigest);
  });
});

describe("registry:3 in the sandbox without Distribution v3 built", () => {
  let sandbox: Sandbox;
  const missing = "/nonexistent/clouddrove-components/distribution-v3.0.0/bin/registry";

  beforeAll(async () => {
    sandbox = await startSandbox({ speed: 200, registryV3Binary: missing });
  });

  afterAll(async () => {
    expect(sandbox?.controllers?.errors).toEqual([]);
    await sandbox?.stop();
  });

  it("fails the container, naming the script that builds the binary, and never runs 2.8.2 for it", async () => {
    sandbox.store.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "v3-unbuilt", namespace: "default" },
      spec: { containers: [{ name: "registry", image: "registry:3.0.0" }] },
    });
    const status = await until("v3-unbuilt in CrashLoopBackOff", () => {
      const container = sandbox.store.get("Pod", "default", "v3-unbuilt")?.status?.containerStatuses?.[0];
      return container?.state?.waiting?.reason === "CrashLoopBackOff" ? container : undefined;
    });
    expect(status.lastState.terminated.exitCode).toBe(127);
    const expected = `registry:3.0.0 runs Distribution v3.0.0's registry binary, which is not built on this machine (not found at ${missing}): run scripts/components.sh in the clouddrove checkout to build it`;
    expect(sandbox.runtime?.processes.logs("default", "v3-unbuilt", { previous: true })).toBe(
      `sandbox: ${expected}\n`,
    );
    const failed = sandbox.store
      .list("Event", { namespace: "default" })
      .filter((e) => e.involvedObject.name === "v3-unbuilt" && e.reason === "Failed");
    expect(failed.map((e) => e.message)).toContain(`Error: ${expected}`);
    expect(sandbox.runtime?.processes.hasProcess("default", "v3-unbuilt")).toBe(false);
  });
});
