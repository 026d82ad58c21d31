/**
 * One real control plane per test file (scripts/real-cluster.sh: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler built from their Go modules, kwok playing the kubelets of three
 * EKS-like nodes in three zones, and the registries process running the real registry binary for each
 * registry pod, reached through port-forwards). `useRealCluster()` starts it before the file's tests
 * and stops it after, checking that no process it started is left.
 *
 * What the harness adds because a bare control plane is not EKS (docs/real-cluster.md):
 * - a CSIDriver object named efs.csi.aws.com, as the aws-efs-csi-driver addon registers (deploy's
 *   preflight requires it); no driver runs: the PV and PVC bind without one, and the registries share
 *   a directory standing in for the file system;
 * - real-cluster.sh's lb-status process writes status.loadBalancer of LoadBalancer Services, as a
 *   cloud's service controller would; no load balancer exists (port-forwards reach the registries).
 *
 * The first run builds the components (scripts/components.sh), which takes many minutes: run
 * that script once before, or allow for it (the hook waits up to an hour).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { runBuiltCli } from "../support/built-cli.js";
import { tempDir } from "../support/run-cli.js";

const SCRIPT = fileURLToPath(new URL("../../scripts/real-cluster.sh", import.meta.url));
export const FILE_SYSTEM = "fs-0123456789abcdef0";
/** deploy as the tests run it: no questions, the EFS file system named. */
export const DEPLOY = ["deploy", "--yes", "--efs-file-system-id", FILE_SYSTEM];
export const NAMESPACE = "clouddrove";
export const REGISTRY_SELECTOR =
  "app.kubernetes.io/name=registry,app.kubernetes.io/instance=clouddrove,app.kubernetes.io/component=registry";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as kubectl prints them.
export type Any = any;

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

export interface RealCluster {
  dir: string;
  kubeconfig: string;
  /** kubectl against the cluster; throws on a non-zero exit. */
  kubectl(args: string[], input?: string): string;
  /** kubectl without throwing: its status, stdout and stderr. */
  kubectlRun(args: string[], input?: string): { status: number; stdout: string; stderr: string };
  getJson(args: string[]): Any;
  /** The built CLI with --kubeconfig and --context real appended, in one working directory per file. */
  cli(args: string[], env?: Record<string, string>): { status: number; stdout: string; stderr: string };
  /** The registry processes' logs (DIR/logs/registry-*.log), concatenated. */
  registryLogs(): string;
  nodes(): string[];
}

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

/** The pids of every process in a process group (the registries process's registry children). */
function groupMembers(pgid: string): string[] {
  const members: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ").pop()?.split(" ") ?? [];
      if (fields[2] === pgid && !/^[ZX]$/.test(fields[0] ?? "")) members.push(entry);
    } catch {
      // gone since the listing
    }
  }
  return members;
}

export function useRealCluster(): () => RealCluster {
  let cluster: RealCluster | undefined;
  let dir = "";

  beforeAll(() => {
    dir = tempDir("clouddrove-real-");
    const kubeconfig = join(dir, "kubeconfig");
    const cwd = tempDir();
    const kubectlRun = (args: string[], input?: string) => {
      const result = spawnSync("kubectl", ["--kubeconfig", kubeconfig, "--context", "real", ...args], {
        encoding: "utf8",
        input,
        timeout: 60_000,
      });
      return { status: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
    };
    const kubectl = (args: string[], input?: string) => {
      const result = kubectlRun(args, input);
      if (result.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
      return result.stdout;
    };
    const up = spawnSync("bash", [SCRIPT, "up", dir], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60 * 60_000,
    });
    if (up.status !== 0)
      throw new Error(`real-cluster.sh up failed (${up.status}):\n${up.stdout}\n${up.stderr}`);
    kubectl(["apply", "-f", "-"], EFS_CSI_DRIVER);
    cluster = {
      dir,
      kubeconfig,
      kubectl,
      kubectlRun,
      getJson: (args) => JSON.parse(kubectl([...args, "-o", "json"])),
      cli: (args, env = {}) => {
        const result = runBuiltCli([...args, "--kubeconfig", kubeconfig, "--context", "real"], {
          cwd,
          env,
          timeoutMs: 300_000,
        });
        return { status: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
      },
      registryLogs: () =>
        readdirSync(join(dir, "logs"))
          .filter((f) => f.startsWith("registry-"))
          .map((f) => readFileSync(join(dir, "logs", f), "utf8"))
          .join("\n"),
      nodes: () =>
        kubectl(["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"]).trim().split(/\s+/).sort(),
    };
  }, 60 * 60_000);

  afterAll(() => {
    if (!dir) return;
    const pidDir = join(dir, "pids");
    const pids = existsSync(pidDir)
      ? readdirSync(pidDir).map((f) => readFileSync(join(pidDir, f), "utf8").split(" ")[0] ?? "")
      : [];
    // Every component runs as its own process group; the registry processes are in the registries' one.
    const before = pids.flatMap((pid) => [pid, ...groupMembers(pid)]);
    const down = spawnSync("bash", [SCRIPT, "down", dir], { encoding: "utf8", timeout: 120_000 });
    if (down.status !== 0) throw new Error(`real-cluster.sh down failed:\n${down.stderr}`);
    const left = [...new Set(before)].filter(running);
    if (left.length > 0) throw new Error(`real-cluster.sh down left pids ${left.join(", ")} running`);
    // Everything stopped: its directory (about 65 MB: etcd, certificates, logs, the registries' data) goes
    // too. A failed run keeps it, to read the logs.
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  return () => {
    if (!cluster) throw new Error("the real cluster did not start");
    return cluster;
  };
}

/** The password clients pull with, from the pull Secret deploy writes. */
export function pullPassword(cluster: RealCluster): string | undefined {
  const secret = cluster.getJson(["-n", NAMESPACE, "get", "secret", "registry-clouddrove-pull"]);
  const config = JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString("utf8"));
  return (Object.values(config.auths ?? {})[0] as { password?: string } | undefined)?.password;
}

/** Polls `check` (every 250 ms) until it returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
