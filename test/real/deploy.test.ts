/**
 * Conformance against a real control plane (scripts/real-cluster.sh: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler built from their Go modules, and kwok playing the
 * kubelets of three EKS-like nodes in three zones). The built CLI deploys to it as a user would,
 * with --kubeconfig and --context.
 *
 * What the harness adds because a bare control plane is not EKS (docs/real-cluster.md):
 * - a CSIDriver object named efs.csi.aws.com, as the aws-efs-csi-driver addon registers (deploy's
 *   preflight requires it); no driver runs: the PV and PVC bind without one, no volume is mounted;
 * - real-cluster.sh's lb-status process writes status.loadBalancer of LoadBalancer Services, as a
 *   cloud's service controller would; no load balancer exists, so the smoke test is skipped.
 *
 * The first run builds the components (scripts/components.sh), which takes many minutes: run
 * that script once before, or allow for it (the hook below waits up to an hour).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBuiltCli } from "../support/built-cli.js";
import { tempDir } from "../support/run-cli.js";

const SCRIPT = fileURLToPath(new URL("../../scripts/real-cluster.sh", import.meta.url));
const FILE_SYSTEM = "fs-0123456789abcdef0";

let dir = "";
let kubeconfig = "";

function kubectl(args: string[], input?: string): string {
  const result = spawnSync("kubectl", ["--kubeconfig", kubeconfig, "--context", "real", ...args], {
    encoding: "utf8",
    input,
    timeout: 30_000,
  });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as kubectl prints them.
const getJson = (args: string[]): any => JSON.parse(kubectl([...args, "-o", "json"]));

const EFS_CSI_DRIVER = `apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata:
  name: efs.csi.aws.com
  labels: {app.kubernetes.io/name: aws-efs-csi-driver}
spec:
  attachRequired: false
  podInfoOnMount: false
  fsGroupPolicy: ReadWriteOnceWithFSType
  volumeLifecycleModes: [Persistent]
`;

beforeAll(() => {
  dir = tempDir("clouddrove-real-");
  kubeconfig = join(dir, "kubeconfig");
  const up = spawnSync("bash", [SCRIPT, "up", dir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60 * 60_000,
  });
  if (up.status !== 0)
    throw new Error(`real-cluster.sh up failed (${up.status}):\n${up.stdout}\n${up.stderr}`);
  kubectl(["apply", "-f", "-"], EFS_CSI_DRIVER);
}, 60 * 60_000);

/** A process that runs (an exited one awaiting its parent's wait is a zombie, "Z"). */
function running(pid: string): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    return !/^[ZX]$/.test(readFileSync(stat, "utf8").split(") ").pop()?.split(" ")[0] ?? "");
  } catch {
    return false;
  }
}

afterAll(() => {
  if (!dir) return;
  const pidDir = join(dir, "pids");
  const pids = existsSync(pidDir)
    ? readdirSync(pidDir).map((f) => readFileSync(join(pidDir, f), "utf8").split(" ")[0] ?? "")
    : [];
  const down = spawnSync("bash", [SCRIPT, "down", dir], { encoding: "utf8", timeout: 120_000 });
  if (down.status !== 0) throw new Error(`real-cluster.sh down failed:\n${down.stderr}`);
  const left = pids.filter(running);
  if (left.length > 0) throw new Error(`real-cluster.sh down left pids ${left.join(", ")} running`);
}, 120_000);

describe("deploy to a real control plane", () => {
  it("rolls out 3 ready replicas on 3 nodes in 3 zones with the claim Bound, and a second deploy changes nothing", () => {
    const cwd = tempDir();
    const args = [
      "deploy",
      "--kubeconfig",
      kubeconfig,
      "--context",
      "real",
      "--yes",
      "--no-smoke-test",
      "--efs-file-system-id",
      FILE_SYSTEM,
    ];
    const first = runBuiltCli(args, { cwd, timeoutMs: 300_000 });
    expect(first.status, `${first.stdout}\n${first.stderr}`).toBe(0);

    const deployment = getJson(["-n", "clouddrove", "get", "deployment", "registry-clouddrove"]);
    expect(deployment.status.readyReplicas).toBe(3);
    expect(deployment.status.availableReplicas).toBe(3);

    const selector =
      "app.kubernetes.io/name=registry,app.kubernetes.io/instance=clouddrove,app.kubernetes.io/component=registry";
    const pods = getJson(["-n", "clouddrove", "get", "pods", "-l", selector]).items;
    const running = pods.filter(
      // biome-ignore lint/suspicious/noExplicitAny: see getJson
      (p: any) => p.status.phase === "Running" && !p.metadata.deletionTimestamp,
    );
    expect(running).toHaveLength(3);
    // biome-ignore lint/suspicious/noExplicitAny: see getJson
    const nodeNames = new Set<string>(running.map((p: any) => p.spec.nodeName));
    expect(nodeNames.size).toBe(3);
    const nodes = getJson(["get", "nodes"]).items;
    const zoneOf = new Map<string, string>(
      // biome-ignore lint/suspicious/noExplicitAny: see getJson
      nodes.map((n: any) => [n.metadata.name, n.metadata.labels["topology.kubernetes.io/zone"]]),
    );
    expect(new Set([...nodeNames].map((n) => zoneOf.get(n)))).toEqual(
      new Set(["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    );

    const claim = getJson(["-n", "clouddrove", "get", "pvc", "registry-clouddrove-data"]);
    expect(claim.status.phase).toBe("Bound");
    expect(claim.spec.volumeName).toBe("registry-clouddrove-data-clouddrove");
    const volume = getJson(["get", "pv", "registry-clouddrove-data-clouddrove"]);
    expect(volume.status.phase).toBe("Bound");
    expect(volume.spec.csi).toMatchObject({ driver: "efs.csi.aws.com", volumeHandle: FILE_SYSTEM });

    const service = getJson(["-n", "clouddrove", "get", "service", "registry-clouddrove"]);
    const host = service.status.loadBalancer.ingress[0].hostname;
    expect(host).toMatch(/\.elb\.eu-west-1\.amazonaws\.com$/);
    expect(first.stdout).toContain(host);

    const generation = deployment.metadata.generation;
    const second = runBuiltCli([...args, "-o", "json"], { cwd, timeoutMs: 300_000 });
    expect(second.status, `${second.stdout}\n${second.stderr}`).toBe(0);
    const report = JSON.parse(second.stdout);
    const changed = report.objects.filter((o: { action: string }) => o.action !== "unchanged");
    expect(changed, JSON.stringify(changed)).toEqual([]);
    expect(
      getJson(["-n", "clouddrove", "get", "deployment", "registry-clouddrove"]).metadata.generation,
    ).toBe(generation);
  });
});
