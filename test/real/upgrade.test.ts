/**
 * upgrade against a real control plane (test/real/cluster.ts): the rehearsal (--dry-run) and then the
 * real drain it predicted, through the real eviction API and PodDisruptionBudget; the kubectl runbook the
 * rehearsal prints, run line by line with the real kubectl; the registry 2.x -> 3.0.0 upgrade, after which
 * Distribution 3.0.0 processes serve what 2.8.2 stored; and a node gone NotReady. In order, on one cluster.
 */
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/run-cli.js";
import {
  type Any,
  DEPLOY,
  eventually,
  NAMESPACE,
  pullPassword,
  REGISTRY_SELECTOR,
  useRealCluster,
} from "./cluster.js";

const real = useRealCluster();

const podsOn = (node: string) =>
  real()
    .getJson(["get", "pods", "-A", "--field-selector", `spec.nodeName=${node}`])
    .items.filter((p: Any) => !p.metadata.deletionTimestamp)
    .map((p: Any) => `${p.metadata.namespace}/${p.metadata.name}`)
    .sort();
const registryPods = () =>
  real()
    .getJson(["-n", NAMESPACE, "get", "pods", "-l", REGISTRY_SELECTOR])
    .items.filter((p: Any) => !p.metadata.deletionTimestamp);
const registryNode = (index: number) => {
  const node = registryPods()
    .map((p: Any) => p.spec.nodeName as string)
    .sort()[index];
  if (!node) throw new Error(`no registry pod #${index}`);
  return node;
};

/** `upgrade --dry-run -o json` of a node with a no-op command: its plan (rehearsal and runbook). */
function rehearse(node: string): { rehearsal: Record<string, string[]>; commands: Record<string, string[]> } {
  const run = real().cli(["upgrade", "--node", node, "--upgrade-command", "true", "--dry-run", "-o", "json"]);
  expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout).plan;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

beforeAll(() => {
  const run = real().cli(DEPLOY);
  if (run.status !== 0) throw new Error(`deploy failed:\n${run.stdout}\n${run.stderr}`);
}, 300_000);

describe("upgrade on a real control plane", () => {
  it("the rehearsal predicts what the real drain then does: the pods evicted, the ones left, the replacement Pending", () => {
    const node = registryNode(0);
    const lines = rehearse(node).rehearsal[node] ?? [];
    const predicted = (verb: string) =>
      lines
        .filter((l) => l.startsWith(`${verb} `))
        .map((l) => l.slice(verb.length + 1).split(":")[0])
        .sort();
    const toEvict = predicted("evict");
    const toLeave = predicted("leave");
    expect(toEvict).toHaveLength(1);
    expect(toLeave).toHaveLength(1);
    expect(lines.find((l) => l.startsWith("evict "))).toContain("will stay Pending until");
    expect(lines).toContain(
      `budget clouddrove/registry-clouddrove: 1 disruption(s) allowed for ${toEvict[0]}`,
    );
    expect(podsOn(node)).toEqual([...toEvict, ...toLeave].sort());

    const run = real().cli(["upgrade", "--node", node, "--upgrade-command", "true", "--yes", "-o", "json"]);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s: Any) => s.title).join("\n")).toMatch(
      /Drained .*: 1 pod\(s\) evicted, 1 left \(DaemonSet\/mirror\)/,
    );
    // What was predicted to go went (evicted: the API server deleted it), what was to stay stayed.
    const after = podsOn(node);
    expect(after).toContain(toLeave[0]);
    expect(after).not.toContain(toEvict[0]);
    // The replacement waited Pending while the node was cordoned: the real scheduler said why.
    const events = real()
      .getJson(["-n", NAMESPACE, "get", "events", "--field-selector", "reason=FailedScheduling"])
      .items.map((e: Any) => e.message as string);
    expect(events.some((m: string) => /1 node\(s\) were unschedulable/.test(m))).toBe(true);
    expect(registryPods()).toHaveLength(3);
  });

  it("the kubectl runbook the rehearsal prints runs, line by line, with the real kubectl", async () => {
    const node = registryNode(1);
    const commands = (rehearse(node).commands[node] ?? []).filter((l: string) => !l.startsWith("#"));
    const env = { ...process.env, KUBECONFIG: real().kubeconfig };
    // The runbook writes files (the CA) where it runs: a directory of its own.
    const cwd = tempDir();
    const password = pullPassword(real());
    const ran: string[] = [];
    let forward: ReturnType<typeof spawn> | undefined;
    let port = 0;
    try {
      for (const line of commands) {
        if (/ port-forward .* &$/.test(line)) {
          // The runbook's local port is 5000; here a free one (tests never bind a fixed port).
          port = await freePort();
          const argv = line
            .replace(/ &$/, "")
            .replace(/ 5000:5000$/, ` ${port}:5000`)
            .split(/\s+/);
          forward = spawn(argv[0] as string, argv.slice(1), { env, stdio: "ignore" });
          await eventually(`the runbook's port-forward on ${port}`, () => {
            const probe = spawnSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]);
            return probe.status === 0 ? true : undefined;
          });
          ran.push(line);
          continue;
        }
        const command = line
          .replace(/127\.0\.0\.1:5000/g, `127.0.0.1:${port}`)
          .replace(/:5000:127\.0\.0\.1:5000/g, `:5000:127.0.0.1:${port}`)
          .replace(/-u USER/g, `-u clouddrove:${password}`);
        const result = spawnSync("bash", ["-c", command], { cwd, env, encoding: "utf8", timeout: 120_000 });
        expect(result.status, `${line}\n${result.stdout}\n${result.stderr}`).toBe(0);
        ran.push(line);
      }
    } finally {
      forward?.kill("SIGTERM");
    }
    expect(ran.some((l) => l.startsWith("kubectl drain "))).toBe(true);
    expect(ran.some((l) => l.startsWith("curl "))).toBe(true);
    // The runbook leaves the cluster as clouddrove would: healthy.
    const status = real().cli(["status", "-o", "json"]);
    expect(status.status, `${status.stdout}\n${status.stderr}`).toBe(0);
  });

  it("upgrade --registry-version 3.0.0 moves every replica to Distribution 3.0.0, which serves what 2.8.2 stored", () => {
    const node = registryNode(2);
    const run = real().cli([
      "upgrade",
      "--node",
      node,
      "--registry-version",
      "3.0.0",
      "--skip-backup",
      "--yes",
      "-o",
      "json",
    ]);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const titles = JSON.parse(run.stdout)
      .steps.map((s: Any) => s.title)
      .join("\n");
    // The image pushed to 2.8.2 before the upgrade was pulled from every 3.0.0 replica after it.
    expect(titles).toMatch(/Healthy after .*: 3\/3 ready on registry:3\.0\.0.*serve the image pushed before/);
    const pods = registryPods();
    expect(pods).toHaveLength(3);
    for (const pod of pods) expect(pod.spec.containers[0].image).toBe("registry:3.0.0");
    // The processes behind them are Distribution 3.0.0's own binary.
    expect(real().registryLogs()).toMatch(/version=3\.0\.0/);
    const status = real().cli(["status", "-o", "json"]);
    expect(status.status, `${status.stdout}\n${status.stderr}`).toBe(0);
    expect(JSON.parse(status.stdout).registry.image).toBe("registry:3.0.0");
  });

  it("a node gone NotReady makes status unhealthy (exit 1) and blocks an upgrade; back Ready, all is well", async () => {
    const [sick, other] = real().nodes();
    if (!sick || !other) throw new Error("expected nodes");
    // kwok stops playing this node's kubelet, which then reports NotReady as a kubelet whose runtime
    // went down does.
    real().kubectl(["annotate", "node", sick, "kwok.x-k8s.io/node-"]);
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    real().kubectl([
      "patch",
      "node",
      sick,
      "--subresource",
      "status",
      "--type",
      "strategic",
      "-p",
      JSON.stringify({
        status: {
          conditions: [
            {
              type: "Ready",
              status: "False",
              reason: "KubeletNotReady",
              message: "container runtime is down",
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
        },
      }),
    ]);
    try {
      // The real node lifecycle controller taints it.
      await eventually("the not-ready taint", () =>
        (real().getJson(["get", "node", sick]).spec.taints ?? []).some(
          (t: Any) => t.key === "node.kubernetes.io/not-ready",
        )
          ? true
          : undefined,
      );
      const status = real().cli(["status", "-o", "json"]);
      expect(status.status).toBe(1);
      const report = JSON.parse(status.stdout);
      expect(report.healthy).toBe(false);
      expect(report.problems).toContain(`node ${sick} is not Ready`);
      const upgrade = real().cli([
        "upgrade",
        "--node",
        other,
        "--upgrade-command",
        "true",
        "--yes",
        "-o",
        "json",
      ]);
      expect(upgrade.status, `${upgrade.stdout}\n${upgrade.stderr}`).toBe(1);
      expect(upgrade.stderr).toContain(`node ${sick} is not Ready`);
      expect(real().getJson(["get", "node", other]).spec.unschedulable).toBeUndefined();
    } finally {
      real().kubectl(["annotate", "node", sick, "kwok.x-k8s.io/node=fake"]);
    }
    await eventually(
      "the node Ready again",
      () => {
        const node = real().getJson(["get", "node", sick]);
        const ready = node.status.conditions.find((c: Any) => c.type === "Ready")?.status === "True";
        const tainted = (node.spec.taints ?? []).some((t: Any) => t.key === "node.kubernetes.io/not-ready");
        return ready && !tainted ? true : undefined;
      },
      60_000,
    );
    const status = real().cli(["status", "-o", "json"]);
    expect(status.status, `${status.stdout}\n${status.stderr}`).toBe(0);
  });
});
