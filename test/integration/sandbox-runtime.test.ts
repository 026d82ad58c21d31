/**
 * The sandbox runs the real registry: clouddrove's rendered manifests (ConfigMap config with the root on
 * an EFS-backed claim, htpasswd Secret, REGISTRY_HTTP_SECRET from a Secret) applied with
 * @kubernetes/client-node become real docker-registry processes, Ready through real probes, reached
 * through pods/portforward and the LoadBalancer proxy, restarted when they die, stopped when their pod
 * goes, and brought back with their data when a saved sandbox starts again.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/src/index.js";
import type { Kube } from "../../src/adapters/kube.js";
import {
  checkAuth,
  getBlob,
  getManifest,
  ping,
  pushRandomImage,
  sha256Digest,
} from "../../src/adapters/registry.js";
import { names } from "../../src/core/render/index.js";
import {
  applyAll,
  connect,
  FILE_SYSTEM,
  isAlive,
  isReady,
  loadBalancerUrl,
  NAMESPACE,
  readyRegistryPods,
  registryPods,
  renderedRegistry,
  throughPortForward,
  until,
  withCredentials,
} from "./sandbox-runtime-support.js";

const SPEED = 200;

describe("the sandbox runs clouddrove's registry manifests as real registry processes", () => {
  let stateDir: string;
  let sandbox: Sandbox;
  let kube: Kube;
  let pushed: { manifestDigest: string; blobDigests: string[] };

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "clouddrove-sandbox-runtime-"));
    sandbox = await startSandbox({ stateDir, speed: SPEED });
    kube = await connect(sandbox);
    await applyAll(kube, await renderedRegistry());
  });

  afterAll(async () => {
    expect(sandbox?.controllers?.errors).toEqual([]);
    await sandbox?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it("brings every replica to Ready through probes against its own registry process", async () => {
    const pods = await readyRegistryPods(sandbox);
    expect(sandbox.runtime?.available).toBe(true);
    const pids = pods.map((pod) => sandbox.runtime?.processes.describe(NAMESPACE, pod.metadata.name)[0]?.pid);
    expect(new Set(pids).size).toBe(3);
    for (const pid of pids) expect(isAlive(pid!)).toBe(true);
    for (const pod of pods) {
      const [proc] = sandbox.runtime!.processes.describe(NAMESPACE, pod.metadata.name);
      // The container's API and debug ports, each on a loopback port of its own.
      expect([...proc!.ports.keys()].sort()).toEqual([5000, 5001]);
      expect(proc!.containerID).toBe(pod.status.containerStatuses[0].containerID);
      // The API keeps the simulated pod network; the process lives on 127.0.0.1.
      expect(pod.status.podIP).toMatch(/^10\.0\./);
    }
    // Every volume and variable the pods name was found (a missing one would be a Warning event: FailedMount,
    // Failed). Probe failures (Unhealthy) and the restart back-off they can cause on a loaded machine (the
    // liveness probe is HTTPS against the real process) are the probes' business, tested below.
    const warnings = sandbox.store
      .list("Event", { namespace: NAMESPACE })
      .filter((e) => e.type === "Warning" && e.reason !== "Unhealthy" && e.reason !== "BackOff");
    expect(warnings.map((e) => `${e.reason}: ${e.message}`)).toEqual([]);
  });

  it("keeps a pod unready while its readiness probe names a port the registry does not listen on", async () => {
    const pod = sandbox.store.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "probe-wrong-port", namespace: NAMESPACE, labels: { test: "probe" } },
      spec: {
        containers: [
          {
            name: "registry",
            image: "registry:2.8.2",
            readinessProbe: { tcpSocket: { port: 5999 }, periodSeconds: 5, failureThreshold: 1 },
          },
        ],
      },
    });
    const unhealthy = () =>
      sandbox.store
        .list("Event", { namespace: NAMESPACE })
        .filter((e) => e.involvedObject.name === pod.metadata.name && e.reason === "Unhealthy")
        .reduce((sum, e) => sum + (e.count ?? 1), 0);
    // A simulated probe would pass; this one is performed against the real process, so it fails on. (The
    // process first: until it answers, a pod is not ready either, and on a loaded machine three probe
    // periods can pass before it is spawned.)
    await until("the pod's registry process", () =>
      sandbox.runtime?.processes.hasProcess(NAMESPACE, pod.metadata.name),
    );
    const before = unhealthy();
    await until("three failed readiness probes against the process", () => unhealthy() >= before + 3);
    const current = sandbox.store.get("Pod", NAMESPACE, pod.metadata.name);
    expect(current?.status.containerStatuses[0].state.running).toBeDefined();
    expect(sandbox.runtime?.processes.hasProcess(NAMESPACE, pod.metadata.name)).toBe(true);
    expect(isReady(current)).toBe(false);
    sandbox.store.delete("Pod", NAMESPACE, pod.metadata.name, { gracePeriodSeconds: 0 });
  });

  it("keeps a pod unready while its registry refuses the HTTPS readiness probe or answers it with an error status", async () => {
    // The registry here serves plain HTTP: an HTTPS probe gets no TLS handshake (Go answers the
    // ClientHello with a plain-HTTP 400 and closes); a probe on a path that does not exist gets 404.
    // Both fail as the kubelet fails them, against the real process.
    const cases = [
      { name: "probe-https-on-http", httpGet: { path: "/", port: 5000, scheme: "HTTPS" } },
      { name: "probe-error-status", httpGet: { path: "/v2/no/such/repository/tags/list", port: 5000 } },
    ];
    for (const { name, httpGet } of cases) {
      sandbox.store.create({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: NAMESPACE, labels: { test: "probe" } },
        spec: {
          containers: [
            {
              name: "registry",
              image: "registry:2.8.2",
              ports: [{ name: "registry", containerPort: 5000 }],
              readinessProbe: { httpGet, periodSeconds: 5, failureThreshold: 1 },
            },
          ],
        },
      });
    }
    const unhealthy = (name: string) =>
      sandbox.store
        .list("Event", { namespace: NAMESPACE })
        .filter((e) => e.involvedObject.name === name && e.reason === "Unhealthy");
    for (const { name } of cases) {
      await until(`${name}'s registry process`, () => sandbox.runtime?.processes.hasProcess(NAMESPACE, name));
      await until(`${name}: failed readiness probes against the process`, () =>
        unhealthy(name).reduce((sum, e) => sum + (e.count ?? 1), 0) >= 3 ? true : undefined,
      );
      const current = sandbox.store.get("Pod", NAMESPACE, name);
      expect(current?.status.containerStatuses[0].state.running).toBeDefined();
      expect(isReady(current)).toBe(false);
    }
    // The same process answers the registry's own probe request (plain GET /) with 200: what failed is
    // the scheme, and the path.
    const port = sandbox.runtime?.processes.hostPort(NAMESPACE, "probe-https-on-http", 5000);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    for (const { name } of cases) sandbox.store.delete("Pod", NAMESPACE, name, { gracePeriodSeconds: 0 });
  });

  it("restarts a container whose liveness probe fails against its process, and stops the old process", async () => {
    const pod = sandbox.store.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "liveness-wrong-port", namespace: NAMESPACE, labels: { test: "probe" } },
      spec: {
        terminationGracePeriodSeconds: 5,
        containers: [
          {
            name: "registry",
            image: "registry:2.8.2",
            livenessProbe: { httpGet: { path: "/", port: 5999 }, periodSeconds: 5, failureThreshold: 2 },
          },
        ],
      },
    });
    const name = pod.metadata.name;
    const first = await until(
      "the first process",
      () => sandbox.runtime?.processes.describe(NAMESPACE, name)[0]?.pid,
    );
    const restarted = await until("a restart after the liveness probe failed", () => {
      const status = sandbox.store.get("Pod", NAMESPACE, name)?.status?.containerStatuses?.[0];
      return status?.restartCount >= 1 ? status : undefined;
    });
    expect(restarted.lastState.terminated.exitCode).toBe(137);
    const killing = sandbox.store
      .list("Event", { namespace: NAMESPACE })
      .find((e) => e.involvedObject.name === name && e.reason === "Killing");
    expect(killing?.message).toBe("Container registry failed liveness probe, will be restarted");
    await until("the killed process gone", () => !isAlive(first));
    sandbox.store.delete("Pod", NAMESPACE, name, { gracePeriodSeconds: 0 });
  });

  it("answers / without and /v2/ only with the htpasswd credentials, through pods/portforward", async () => {
    const [pod] = await readyRegistryPods(sandbox);
    await throughPortForward(kube, pod!.metadata.name, async (baseUrl) => {
      expect(await ping({ baseUrl })).toBe(200);
      expect(await checkAuth({ baseUrl })).toBe(401);
      expect(await checkAuth(withCredentials(baseUrl))).toBe(200);
      expect(await checkAuth({ baseUrl, username: "clouddrove", password: "wrong" })).toBe(401);
    });
  });

  it("takes a push through the load balancer that every replica serves, stored on the EFS volume", async () => {
    const pods = await readyRegistryPods(sandbox);
    const url = await until("the load balancer address", () => loadBalancerUrl(sandbox));
    const service = sandbox.store.get("Service", NAMESPACE, names.service);
    expect(service?.status.loadBalancer.ingress).toEqual([
      { ip: "127.0.0.1", ports: [{ port: Number(new URL(url).port), protocol: "TCP" }] },
    ]);
    pushed = await pushRandomImage(withCredentials(url), "team/app", "v1", { layers: 2, layerSize: 4096 });
    for (const pod of pods) {
      await throughPortForward(kube, pod.metadata.name, async (baseUrl) => {
        const manifest = await getManifest(withCredentials(baseUrl), "team/app", "v1");
        expect(manifest.digest).toBe(pushed.manifestDigest);
        for (const digest of pushed.blobDigests) {
          expect(sha256Digest(await getBlob(withCredentials(baseUrl), "team/app", digest))).toBe(digest);
        }
      });
    }
    const blobs = join(sandbox.runtime!.dataDir, "efs", FILE_SYSTEM, "docker", "registry", "v2", "blobs");
    for (const digest of pushed.blobDigests) {
      const hex = digest.slice("sha256:".length);
      expect(existsSync(join(blobs, "sha256", hex.slice(0, 2), hex, "data"))).toBe(true);
    }
  });

  it("serves what the registry wrote as the pod's log", async () => {
    const [pod] = await readyRegistryPods(sandbox);
    const log = await kube.http.json<string>({
      method: "GET",
      path: `/api/v1/namespaces/${NAMESPACE}/pods/${pod!.metadata.name}/log`,
    });
    expect(log).toMatch(/level=info msg="listening on 127\.0\.0\.1:\d+"/);
    expect(log).not.toContain("No HTTP secret provided");
  });

  it("restarts a container whose process dies, counting the restart", async () => {
    const [pod] = await readyRegistryPods(sandbox);
    const name = pod!.metadata.name;
    const [before] = sandbox.runtime!.processes.describe(NAMESPACE, name);
    process.kill(before!.pid!, "SIGKILL");
    const restarted = await until("the container restarted and ready again", () => {
      const current = sandbox.store.get("Pod", NAMESPACE, name);
      return current?.status.containerStatuses[0].restartCount === 1 && isReady(current)
        ? current
        : undefined;
    });
    expect(restarted.status.containerStatuses[0].lastState.terminated).toMatchObject({
      exitCode: 137,
      reason: "Error",
    });
    const [after] = sandbox.runtime!.processes.describe(NAMESPACE, name);
    expect(after!.pid).not.toBe(before!.pid);
    expect(after!.containerID).toBe(restarted.status.containerStatuses[0].containerID);
    const previous = await kube.http.json<string>({
      method: "GET",
      path: `/api/v1/namespaces/${NAMESPACE}/pods/${name}/log?previous=true`,
    });
    expect(previous).toContain("listening on 127.0.0.1");
    await throughPortForward(kube, name, async (baseUrl) => {
      expect((await getManifest(withCredentials(baseUrl), "team/app", "v1")).digest).toBe(
        pushed.manifestDigest,
      );
    });
  });

  it("stops a deleted pod's process; its replacement serves the same data", async () => {
    const [victim] = await readyRegistryPods(sandbox);
    const pid = sandbox.runtime!.processes.describe(NAMESPACE, victim!.metadata.name)[0]!.pid!;
    await kube.delete("v1", "Pod", victim!.metadata.name, NAMESPACE);
    await until("the deleted pod's process to stop", () => !isAlive(pid));
    const pods = await readyRegistryPods(sandbox);
    const replacement = pods.find(
      (p) => p.metadata.uid !== victim!.metadata.uid && p.metadata.name !== victim!.metadata.name,
    );
    expect(replacement).toBeDefined();
    expect(sandbox.store.get("Pod", NAMESPACE, victim!.metadata.name)).toBeUndefined();
    await throughPortForward(kube, replacement!.metadata.name, async (baseUrl) => {
      expect((await getManifest(withCredentials(baseUrl), "team/app", "v1")).digest).toBe(
        pushed.manifestDigest,
      );
    });
  });

  it("brings the processes back with the same data when the saved sandbox starts again", async () => {
    const pids = registryPods(sandbox).map(
      (pod) => sandbox.runtime!.processes.describe(NAMESPACE, pod.metadata.name)[0]!.pid!,
    );
    await sandbox.stop();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    sandbox = await startSandbox({ stateDir, speed: SPEED });
    kube = await connect(sandbox);
    expect(sandbox.runtime!.dataDir).toBe(join(stateDir, "volumes"));
    // The pause is invisible: the pods come back Ready from the saved state, and by the time the
    // sandbox has started their new processes answer, without waiting or retrying.
    const pods = registryPods(sandbox);
    expect(pods.filter(isReady)).toHaveLength(3);
    for (const pod of pods) {
      const [proc] = sandbox.runtime!.processes.describe(NAMESPACE, pod.metadata.name);
      expect(pids).not.toContain(proc!.pid);
      await throughPortForward(kube, pod.metadata.name, async (baseUrl) => {
        expect((await getManifest(withCredentials(baseUrl), "team/app", "v1")).digest).toBe(
          pushed.manifestDigest,
        );
      });
    }
    const url = await until("the load balancer address", () => loadBalancerUrl(sandbox));
    expect((await getManifest(withCredentials(url), "team/app", "v1")).digest).toBe(pushed.manifestDigest);
  });
});
