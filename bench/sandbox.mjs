// The sandbox at scale: 100 nodes and a 1,000-pod Deployment. Reports the time until the Deployment is
// ready (real time, at a high simulated speed) and API requests per second for get, list (1,000 pods)
// and patch through @kubernetes/client-node over HTTPS, with controllers running. The image is not a
// registry image on purpose: the sandbox would start a real registry process for each of those.
import { median, printTable } from "./lib.mjs";

const { startSandbox } = await import("../sandbox/dist/index.js");
const k8s = await import("@kubernetes/client-node");

async function rate(count, fn) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await fn(i);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return count / seconds;
}

async function once() {
  const sandbox = await startSandbox({ nodes: 100, speed: 1000 });
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const labels = { app: "bench" };
    const started = process.hrtime.bigint();
    await apps.createNamespacedDeployment({
      namespace: "default",
      body: {
        metadata: { name: "bench" },
        spec: {
          replicas: 1000,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: "c",
                  image: "public.ecr.aws/docker/library/nginx:1.27",
                  resources: { requests: { cpu: "10m", memory: "16Mi" } },
                },
              ],
            },
          },
        },
      },
    });
    for (;;) {
      const d = await apps.readNamespacedDeployment({ name: "bench", namespace: "default" });
      if (d.status?.readyReplicas === 1000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
    const pods = (await core.listNamespacedPod({ namespace: "default" })).items;
    const get = await rate(200, (i) =>
      core.readNamespacedPod({ name: pods[i % pods.length].metadata.name, namespace: "default" }),
    );
    const list = await rate(20, () =>
      core.listNamespacedPod({ namespace: "default", labelSelector: "app=bench" }),
    );
    const patch = await rate(200, (i) =>
      core.patchNamespacedPod(
        {
          name: pods[i % pods.length].metadata.name,
          namespace: "default",
          body: { metadata: { annotations: { n: String(i) } } },
        },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      ),
    );
    return { readyMs, get, list, patch };
  } finally {
    await sandbox.stop();
  }
}

export async function run({ runs = Number(process.env.BENCH_RUNS ?? 3) } = {}) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await once());
  const m = (key) => median(samples.map((s) => s[key]));
  printTable(`sandbox at scale: 100 nodes, 1,000-pod Deployment (median of ${runs})`, [
    `1,000 pods ready          ${(m("readyMs") / 1000).toFixed(2)} s real time (speed 1000)`,
    `get pod                   ${m("get").toFixed(0)} req/s`,
    `list 1,000 pods           ${m("list").toFixed(1)} req/s`,
    `merge-patch pod           ${m("patch").toFixed(0)} req/s`,
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
