#!/usr/bin/env node
/**
 * The registry processes of a real control plane's pods (scripts/real-cluster.sh runs this as its
 * "registries" process: `node scripts/real-cluster-registries.mjs DIR`).
 *
 * kwok plays the kubelets, so no container ever runs. For every registry container of a scheduled,
 * undeleted pod this starts the real registry binary (registry:2.x: Debian's docker-registry 2.8.2;
 * registry:3.x: Distribution v3.0.0 from scripts/components.sh) with what the kubelet would give the
 * container: its ConfigMap and Secret volumes written as files (the rendered config, htpasswd, the TLS
 * certificate and key), its env resolved, its claim's volume as a directory shared by every pod of that
 * volume (DIR/volumes/efs/<fs-id>). It is the sandbox's container runtime preparing the same container
 * (sandbox/dist/runtime: materializeMounts, resolveEnv, planLaunch), reading the objects from the real
 * API server instead of the sandbox's store.
 *
 * Then it creates a kwok ClusterPortForward selecting just that pod, whose forwards send each container
 * port to the process's loopback port: a port-forward through the API server (kubectl port-forward,
 * clouddrove's smoke test and status) reaches the real registry, as on a real node. The forward exists only
 * once the registry accepts connections. When the pod is deleted (or its node name or uid changes), the
 * process gets SIGTERM and the forward is deleted.
 *
 * The readiness kwok reports is still kwok's: a pod is Ready at once, whatever its process does.
 */
import { spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { request } from "node:https";
import { connect } from "node:net";
import { join } from "node:path";
import { resolveEnv } from "../sandbox/dist/runtime/env.js";
import { registryMajor } from "../sandbox/dist/runtime/image.js";
import { freePort } from "../sandbox/dist/runtime/ports.js";
import { distributionBinaryPath } from "../sandbox/dist/runtime/registry-binaries.js";
import { planLaunch, serveArguments } from "../sandbox/dist/runtime/registry-launch.js";
import { materializeMounts } from "../sandbox/dist/runtime/volumes.js";

const DIR = process.argv[2];
if (!DIR) {
  console.error("usage: real-cluster-registries.mjs DIR");
  process.exit(2);
}
const POLL_MS = 300;
const FORWARDS = "/apis/kwok.x-k8s.io/v1alpha1/clusterportforwards";

const ports = Object.fromEntries(
  readFileSync(join(DIR, "ports"), "utf8")
    .trim()
    .split("\n")
    .map((line) => line.split("=")),
);
const pki = join(DIR, "pki");
const tls = {
  ca: readFileSync(join(pki, "ca.crt")),
  cert: readFileSync(join(pki, "registries.crt")),
  key: readFileSync(join(pki, "registries.key")),
};

const log = (message) => console.log(`${new Date().toISOString()} ${message}`);

/** One call to the API server; resolves with the status and the parsed body. */
const api = (method, path, body) => apiWith(method, path, body, "application/json");

function apiWith(method, path, body, contentType) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: "127.0.0.1",
        port: Number(ports["kube-apiserver"]),
        method,
        path,
        ...tls,
        headers: { accept: "application/json", ...(payload ? { "content-type": contentType } : {}) },
        timeout: 10_000,
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on("error", reject);
    req.end(payload);
  });
}

async function list(path) {
  const { status, body } = await api("GET", path);
  if (status !== 200) throw new Error(`GET ${path}: HTTP ${status} ${JSON.stringify(body)}`);
  return body.items ?? [];
}

/**
 * The objects a pod's containers read, fetched now (as a kubelet reads them when it starts a container),
 * behind the one method of the sandbox's ObjectStore the runtime helpers call.
 */
async function snapshot(namespace) {
  const byKey = new Map();
  const add = (kind, items) => {
    for (const item of items)
      byKey.set(`${kind}/${item.metadata.namespace ?? ""}/${item.metadata.name}`, item);
  };
  const ns = encodeURIComponent(namespace);
  add("Secret", await list(`/api/v1/namespaces/${ns}/secrets`));
  add("ConfigMap", await list(`/api/v1/namespaces/${ns}/configmaps`));
  add("PersistentVolumeClaim", await list(`/api/v1/namespaces/${ns}/persistentvolumeclaims`));
  add("PersistentVolume", await list("/api/v1/persistentvolumes"));
  return { get: (kind, namespace, name) => byKey.get(`${kind}/${namespace ?? ""}/${name}`) };
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** pod uid -> { key, name, namespace, children: [{ container, child, ports }], forward } */
const running = new Map();

const forwardName = (pod) => `registry-${pod.metadata.uid}`;

async function startContainer(store, pod, container, major) {
  const resolved = resolveEnv(store, pod, container);
  const mounts = await materializeMounts(store, join(DIR, "volumes"), pod, container);
  const problems = [...resolved.problems, ...mounts.problems];
  if (problems.length > 0) {
    // The kubelet would not start it either (CreateContainerConfigError); the next poll tries again.
    throw new Error(problems.join("; "));
  }
  const plan = await planLaunch({ major, container, mounts, env: resolved.env, freePort });
  const binary = major === 3 ? distributionBinaryPath() : "docker-registry";
  const logFile = join(
    DIR,
    "logs",
    `registry-${pod.metadata.namespace}-${pod.metadata.name}-${container.name}.log`,
  );
  const out = createWriteStream(logFile, { flags: "a" });
  const child = spawn(binary, plan.args, { env: plan.env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  child.on("error", (error) => log(`${pod.metadata.name}/${container.name}: ${error.message}`));
  child.on("exit", (code, signal) =>
    log(`${pod.metadata.namespace}/${pod.metadata.name}/${container.name} exited (${signal ?? code})`),
  );
  const apiPort = [...plan.ports.values()][0];
  const deadline = Date.now() + 15_000;
  while (apiPort !== undefined && !(await listening(apiPort))) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${binary} exited at once; see ${logFile}`);
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  log(
    `${pod.metadata.namespace}/${pod.metadata.name}/${container.name}: ${binary} pid ${child.pid}, ports ${[...plan.ports].map(([c, h]) => `${c}->${h}`).join(", ")}`,
  );
  return { container: container.name, child, ports: plan.ports };
}

/**
 * Says the pod's containers may start, as a kubelet does once the pod sandbox exists: the condition
 * PodReadyToStartContainers, which the harness's copy of kwok's pod-ready Stage waits for. For a pod with
 * registry containers this comes once they accept connections and their port-forward exists, so that
 * nothing sees the pod Ready before a port-forward to it can reach its registry.
 */
async function readyToStart(pod) {
  const path = `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace)}/pods/${encodeURIComponent(pod.metadata.name)}/status`;
  const patch = {
    status: {
      conditions: [
        {
          type: "PodReadyToStartContainers",
          status: "True",
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        },
      ],
    },
  };
  const { status, body } = await apiWith("PATCH", path, patch, "application/strategic-merge-patch+json");
  if (status !== 200 && status !== 404)
    throw new Error(`PATCH ${path}: HTTP ${status} ${JSON.stringify(body)}`);
}

const hasReadyToStart = (pod) =>
  (pod.status?.conditions ?? []).some((c) => c.type === "PodReadyToStartContainers" && c.status === "True");

async function start(pod) {
  const containers = (pod.spec.containers ?? [])
    .map((container) => ({ container, major: registryMajor(container.image) }))
    .filter(({ container, major }) => major !== undefined && serveArguments(container, major) !== undefined);
  const entry = {
    key: podKey(pod),
    name: pod.metadata.name,
    namespace: pod.metadata.namespace,
    children: [],
    stopped: false,
  };
  running.set(pod.metadata.uid, entry);
  try {
    if (containers.length > 0) {
      const store = await snapshot(pod.metadata.namespace);
      for (const { container, major } of containers) {
        const started = await startContainer(store, pod, container, major);
        entry.children.push(started);
        if (entry.stopped) {
          started.child.kill("SIGTERM");
          return;
        }
      }
      const forwards = entry.children.flatMap(({ ports }) =>
        [...ports].map(([containerPort, hostPort]) => ({
          ports: [containerPort],
          target: { address: "127.0.0.1", port: hostPort },
        })),
      );
      const body = {
        apiVersion: "kwok.x-k8s.io/v1alpha1",
        kind: "ClusterPortForward",
        metadata: { name: forwardName(pod), labels: { "app.kubernetes.io/managed-by": "real-cluster.sh" } },
        spec: {
          selector: { matchNamespaces: [pod.metadata.namespace], matchNames: [pod.metadata.name] },
          forwards,
        },
      };
      const { status, body: answer } = await api("POST", FORWARDS, body);
      if (status !== 201 && status !== 409)
        throw new Error(`creating the port forward: HTTP ${status} ${JSON.stringify(answer)}`);
      entry.forward = forwardName(pod);
      // kwok learns of the forward through its watch: give it that moment before the pod can turn Ready.
      await new Promise((r) => setTimeout(r, 200));
    }
    if (!hasReadyToStart(pod)) await readyToStart(pod);
  } catch (error) {
    log(`${pod.metadata.namespace}/${pod.metadata.name}: ${error.message}`);
    await stop(pod.metadata.uid);
    // Retried at a later poll, after a pause (a missing Secret may still be on its way).
    failedAt.set(pod.metadata.uid, Date.now());
  }
}

async function stop(uid) {
  const entry = running.get(uid);
  if (!entry) return;
  running.delete(uid);
  entry.stopped = true;
  for (const { child } of entry.children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  }
  if (entry.forward) await api("DELETE", `${FORWARDS}/${entry.forward}`).catch(() => undefined);
  if (entry.children.length > 0) log(`${entry.namespace}/${entry.name}: stopped`);
}

const failedAt = new Map();
const podKey = (pod) => `${pod.metadata.uid}@${pod.spec.nodeName}`;

async function poll() {
  const pods = await list("/api/v1/pods");
  const wanted = new Map();
  for (const pod of pods) {
    if (!pod.spec?.nodeName || pod.metadata.deletionTimestamp) continue;
    if (["Succeeded", "Failed"].includes(pod.status?.phase)) continue;
    wanted.set(pod.metadata.uid, pod);
  }
  for (const [uid, entry] of running) {
    const pod = wanted.get(uid);
    if (!pod || podKey(pod) !== entry.key) await stop(uid);
  }
  for (const [uid, pod] of wanted) {
    if (running.has(uid)) continue;
    const failed = failedAt.get(uid);
    if (failed !== undefined && Date.now() - failed < 3_000) continue;
    // Not awaited: pods start side by side, and a slow one does not hold up the others.
    void start(pod);
  }
}

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  for (const entry of running.values())
    for (const { child } of entry.children) if (child.exitCode === null) child.kill("SIGTERM");
  setTimeout(() => process.exit(0), 2_000).unref();
  await Promise.all(
    [...running.values()].flatMap((e) =>
      e.children.map(
        ({ child }) => new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r))),
      ),
    ),
  );
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

log(`watching the pods of https://127.0.0.1:${ports["kube-apiserver"]}`);
while (!stopping) {
  try {
    await poll();
  } catch (error) {
    log(`poll: ${error.message}`);
  }
  await new Promise((r) => setTimeout(r, POLL_MS));
}
