/**
 * The sandbox against the real control plane: the same scenario on both (deploy; a pod that cannot be
 * scheduled; an eviction a PodDisruptionBudget refuses), then what each cluster did, compared: the
 * objects clouddrove manages (normalised `kubectl get -o json`: normalise.ts), status conditions and
 * reasons, and the API's error codes and messages. A difference is a sandbox bug, unless normalise.ts
 * says why the two clusters cannot agree there.
 */
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { CLI } from "../support/built-cli.js";
import { tempDir } from "../support/run-cli.js";
import { runMark } from "../support/run-mark.js";
import { type Any, eventually, FILE_SYSTEM, NAMESPACE, useRealCluster } from "./cluster.js";
import { differences, normalise } from "./normalise.js";

const real = useRealCluster();
let sbx: TestSandbox;

beforeAll(async () => {
  // The sandbox as the version the real control plane runs, so that version-dependent fields agree.
  sbx = await startTestSandbox({ controllers: true, speed: 20, kubernetesVersion: "1.35" });
}, 120_000);
afterAll(async () => {
  await sbx?.stop();
});

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * One cluster's kubectl and CLI. Asynchronous: the sandbox runs in this process, so a synchronous child
 * process would stop it from answering.
 */
interface Side {
  name: string;
  kubectl(args: string[], input?: string): Promise<Run>;
  cli(args: string[]): Promise<Run>;
}

async function run(
  command: string,
  args: string[],
  options: { input?: string; cwd?: string; env?: Record<string, string> },
): Promise<Run> {
  const result = await execa(command, args, {
    reject: false,
    input: options.input,
    cwd: options.cwd,
    env: options.env,
    extendEnv: options.env === undefined,
    stdin: options.input === undefined ? "ignore" : undefined,
    timeout: 300_000,
  });
  return { status: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const sides = (): Side[] => {
  const cwd = { real: tempDir(), sandbox: tempDir() };
  const cliEnv = (home: string) => ({ PATH: process.env.PATH ?? "", HOME: home, CI: "true", ...runMark() });
  return [
    {
      name: "real",
      kubectl: (args, input) =>
        run("kubectl", ["--kubeconfig", real().kubeconfig, "--context", "real", ...args], { input }),
      cli: (args) =>
        run(process.execPath, [CLI, ...args, "--kubeconfig", real().kubeconfig, "--context", "real"], {
          cwd: cwd.real,
          env: cliEnv(cwd.real),
        }),
    },
    {
      name: "sandbox",
      kubectl: (args, input) =>
        run("kubectl", ["--kubeconfig", sbx.kubeconfigPath, ...args], {
          input,
          env: { PATH: process.env.PATH ?? "", HOME: cwd.sandbox, KUBECONFIG: "" },
        }),
      cli: (args) =>
        run(process.execPath, [CLI, ...args, "--kubeconfig", sbx.kubeconfigPath], {
          cwd: cwd.sandbox,
          env: cliEnv(cwd.sandbox),
        }),
    },
  ];
};

const json = async (side: Side, args: string[]): Promise<Any> => {
  const result = await side.kubectl([...args, "-o", "json"]);
  if (result.status !== 0) throw new Error(`${side.name}: kubectl ${args.join(" ")}: ${result.stderr}`);
  return JSON.parse(result.stdout);
};

/** The objects clouddrove applies, by kind/namespace/name. */
const MANAGED = [
  ["namespace", "", "clouddrove"],
  ["serviceaccount", NAMESPACE, "registry-clouddrove"],
  ["configmap", NAMESPACE, "registry-clouddrove-config"],
  ["configmap", NAMESPACE, "registry-clouddrove-ca"],
  ["secret", NAMESPACE, "registry-clouddrove-htpasswd"],
  ["secret", NAMESPACE, "registry-clouddrove-http-secret"],
  ["secret", NAMESPACE, "registry-clouddrove-tls"],
  ["persistentvolume", "", "registry-clouddrove-data-clouddrove"],
  ["persistentvolumeclaim", NAMESPACE, "registry-clouddrove-data"],
  ["deployment", NAMESPACE, "registry-clouddrove"],
  ["poddisruptionbudget", NAMESPACE, "registry-clouddrove"],
  ["service", NAMESPACE, "registry-clouddrove"],
  ["networkpolicy", NAMESPACE, "clouddrove-default-deny"],
  ["networkpolicy", NAMESPACE, "registry-clouddrove-ingress"],
] as const;

let state: Side[] = [];

describe("the sandbox and the real control plane agree", () => {
  beforeAll(async () => {
    state = sides();
    await Promise.all(
      state.map(async (side) => {
        const deployed = await side.cli(["deploy", "--yes", "--efs-file-system-id", FILE_SYSTEM]);
        if (deployed.status !== 0)
          throw new Error(`${side.name}: deploy failed:\n${deployed.stdout}\n${deployed.stderr}`);
      }),
    );
  }, 600_000);

  it("on the objects clouddrove manages, after a deploy", async () => {
    const found: string[] = [];
    for (const [kind, namespace, name] of MANAGED) {
      const args = namespace ? ["-n", namespace, "get", kind, name] : ["get", kind, name];
      const [left, right] = await Promise.all(state.map(async (side) => normalise(await json(side, args))));
      found.push(...differences(left, right).map((d) => `${kind}/${name} ${d}`));
    }
    expect(found).toEqual([]);
  });

  it("on a pod no node can take: Pending, PodScheduled False, the scheduler's reason and message", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "nowhere", namespace: "default" },
      spec: {
        nodeSelector: { "topology.kubernetes.io/zone": "eu-west-1z" },
        containers: [{ name: "app", image: "busybox:1.36", command: ["sleep", "3600"] }],
      },
    };
    const seen = [];
    for (const side of state) {
      const created = await side.kubectl(["apply", "-f", "-"], JSON.stringify(pod));
      expect(created.status, created.stderr).toBe(0);
      const condition = await eventually(`${side.name}: PodScheduled False`, async () =>
        (await json(side, ["-n", "default", "get", "pod", "nowhere"])).status.conditions?.find(
          (c: Any) => c.type === "PodScheduled" && c.status === "False",
        ),
      );
      const event = await eventually(`${side.name}: a FailedScheduling event`, async () =>
        (
          await json(side, [
            "-n",
            "default",
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=nowhere",
          ])
        ).items.find((e: Any) => e.reason === "FailedScheduling"),
      );
      const phase = (await json(side, ["-n", "default", "get", "pod", "nowhere"])).status.phase;
      seen.push({
        phase,
        condition: { reason: condition.reason, message: condition.message },
        event: {
          type: event.type,
          reason: event.reason,
          message: event.message,
          source: event.source?.component ?? event.reportingComponent,
        },
      });
    }
    expect(seen[1]).toEqual(seen[0]);
    // A Pending pod is a problem the upgrade's health gate rightly stops at: gone before the next test.
    for (const side of state)
      await side.kubectl(["-n", "default", "delete", "pod", "nowhere", "--wait=false"]);
  });

  it("on a node upgrade: the rehearsal, the drain, and why the replacement waited", async () => {
    const seen = [];
    for (const side of state) {
      const nodes = (await json(side, ["get", "nodes"])).items;
      const node = nodes.find((n: Any) => n.metadata.labels["topology.kubernetes.io/zone"] === "eu-west-1a");
      const name: string = node.metadata.name;
      const before = new Set(
        (await json(side, ["-n", NAMESPACE, "get", "pods"])).items.map((p: Any) => p.metadata.name),
      );
      const upgradeArgs = ["upgrade", "--node", name, "--upgrade-command", "true"];
      const rehearsal = await side.cli([...upgradeArgs, "--dry-run", "-o", "json"]);
      expect(rehearsal.status, `${side.name}: ${rehearsal.stdout}\n${rehearsal.stderr}`).toBe(0);
      const upgrade = await side.cli([...upgradeArgs, "--yes", "-o", "json"]);
      expect(upgrade.status, `${side.name}: ${upgrade.stdout}\n${upgrade.stderr}`).toBe(0);
      const report = JSON.parse(upgrade.stdout);
      const anonymous = (text: string) =>
        text
          .replaceAll(name, "<node>")
          .replace(/registry-clouddrove-node-trust-[a-z0-9]{5}\b/g, "<trust-pod>")
          .replace(/registry-clouddrove-[a-z0-9]+-[a-z0-9]{5}\b/g, "<pod>")
          .replace(/ReplicaSet\/registry-clouddrove-[a-z0-9]+/g, "ReplicaSet/<rs>");
      const replacement = (await json(side, ["-n", NAMESPACE, "get", "pods"])).items
        .map((p: Any) => p.metadata.name)
        .filter((p: string) => !before.has(p) && p.startsWith("registry-clouddrove-"));
      const events = (
        await json(side, ["-n", NAMESPACE, "get", "events", "--field-selector", "reason=FailedScheduling"])
      ).items
        .filter((e: Any) => replacement.includes(e.involvedObject.name))
        .sort((a: Any, b: Any) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
      // The sandbox also runs EKS's add-ons (kube-system: coredns with its budget; the aws-node, kube-proxy
      // and EFS CSI node DaemonSets), which this harness does not install: the plan is compared without
      // them, and the drain's counts (which include them) are left out.
      const plan = Object.values(JSON.parse(rehearsal.stdout).plan.rehearsal).flat() as string[];
      seen.push({
        rehearsal: plan.filter((l) => !l.includes(" kube-system/")).map(anonymous),
        drained: anonymous(
          report.steps
            .find((s: Any) => s.title.startsWith("Drained"))
            .detail.replace(/in [\d.]+ s/, "in <t> s")
            .replace(/\d+ pod\(s\) evicted, \d+ left/, "<n> pod(s) evicted, <n> left"),
        ),
        replacementWaited: anonymous(events[0]?.message ?? "(no FailedScheduling event)"),
      });
    }
    expect(seen[1]).toEqual(seen[0]);
  });

  it("on an eviction the budget refuses: the same status code, reason and message", async () => {
    const objects = [
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "pinned", namespace: "default", labels: { app: "pinned" } },
        spec: { containers: [{ name: "app", image: "busybox:1.36", command: ["sleep", "3600"] }] },
      },
      {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "pinned", namespace: "default" },
        spec: { minAvailable: 1, selector: { matchLabels: { app: "pinned" } } },
      },
    ];
    const eviction = JSON.stringify({
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: "pinned", namespace: "default" },
    });
    const answers = [];
    for (const side of state) {
      for (const object of objects) {
        const created = await side.kubectl(["apply", "-f", "-"], JSON.stringify(object));
        expect(created.status, created.stderr).toBe(0);
      }
      const refused = await evictOnceCounted(side, eviction);
      answers.push(refused);
    }
    expect(answers[0]?.status).not.toBe(0);
    expect(answers[1]).toEqual(answers[0]);
  });
});

/** Posts the eviction once the budget counts the pod (a controller writes its status). */
async function evictOnceCounted(side: Side, eviction: string): Promise<{ status: number; stderr: string }> {
  await eventually(`${side.name}: the budget counts the pod`, async () =>
    (await json(side, ["-n", "default", "get", "pdb", "pinned"])).status?.currentHealthy === 1
      ? true
      : undefined,
  );
  const result = await side.kubectl(
    ["create", "--raw", "/api/v1/namespaces/default/pods/pinned/eviction", "-f", "-"],
    eviction,
  );
  return { status: result.status, stderr: result.stderr.trim() };
}
