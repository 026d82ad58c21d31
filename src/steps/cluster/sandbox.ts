/**
 * The steps `cluster create --sandbox` runs instead of eksctl and the EFS calls: the addons' effects on
 * the simulated cluster (network policy agent, snapshot controller) and the record of the simulated AWS
 * side (control plane subnet zones, the EFS file system and its mount targets).
 */

import { startSandbox } from "@clouddrove/sandbox";
import type { ListrTask } from "listr2";
import { connectKube, type Kube } from "../../adapters/kube.js";
import type { ClusterValues } from "../../core/cluster/cluster-config.js";
import { KUBE_SYSTEM, SNAPSHOT_CONTROLLER_DEPLOYMENT } from "../../core/cluster/constants.js";
import { networkPolicyAgent, simulatedAwsConfigMap, snapshotController } from "../../core/cluster/sandbox.js";
import { type RendererTarget, runTasks } from "../../io/renderer.js";
import type { KubeStepContext } from "./connect.js";
import { verifyTask } from "./facts.js";
import { storageTask } from "./storage.js";

/** The zones the sandbox's nodes were seeded in (its cluster-info ConfigMap), else `fallback`. */
export async function sandboxZones(kube: Kube, fallback: string[]): Promise<string[]> {
  const info = await kube.get<{ data?: Record<string, string> } & { apiVersion?: string; kind?: string }>(
    "v1",
    "ConfigMap",
    "clouddrove-sandbox",
    KUBE_SYSTEM,
  );
  const zones = info?.data?.zones?.split(",").filter(Boolean);
  return zones && zones.length > 0 ? zones : fallback;
}

export function sandboxAddonsTask(options: { timeoutMs: number }): ListrTask<KubeStepContext> {
  return {
    title: "Simulated addons: VPC CNI with network policy, snapshot controller",
    task: async (context, task) => {
      const kube = context.kube as Kube;
      // As an EKS addon update overwrites the addon's fields, clouddrove takes them over (force).
      await kube.apply(networkPolicyAgent(context.values.region), { force: true });
      task.output = "aws-node: network policy agent with --enable-network-policy=true";
      await kube.apply(snapshotController(), { force: true });
      task.output = "waiting for the snapshot controller to become available";
      await kube.waitFor<
        { status?: { availableReplicas?: number } } & { apiVersion?: string; kind?: string }
      >(
        "apps/v1",
        "Deployment",
        SNAPSHOT_CONTROLLER_DEPLOYMENT,
        KUBE_SYSTEM,
        (d) => (d.status?.availableReplicas ?? 0) >= 1,
        options.timeoutMs,
      );
      context.done.push("simulated addons: network policy enforcement, snapshot controller");
    },
  };
}

export function sandboxStorageTask(options: { fileSystemId: string }): ListrTask<KubeStepContext> {
  return {
    title: "Simulated shared storage: an EFS file system with a mount target in each zone",
    task: async (context, task) => {
      const kube = context.kube as Kube;
      const zones = await sandboxZones(kube, context.values.zones);
      await kube.apply(
        simulatedAwsConfigMap({
          controlPlaneSubnetZones: zones,
          efs: { fileSystemId: options.fileSystemId, mountTargetZones: zones },
        }),
      );
      context.fileSystemId = options.fileSystemId;
      task.title = `Simulated shared storage: EFS ${options.fileSystemId}, mount targets in ${zones.join(", ")}`;
      context.done.push(`simulated EFS file system ${options.fileSystemId}`);
    },
  };
}

export interface SandboxCreateInput {
  target: RendererTarget;
  /** Region and zones seed a new sandbox; a saved one keeps its own. */
  values: ClusterValues;
  stateDir: string;
  speed: number;
  fileSystemId: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Starts the sandbox (from its saved state, or seeded with the requested zones), runs the simulated
 * create steps, and stops it again (which saves the state for the next --sandbox command). The simulated
 * EFS id is not written to clouddrove.yaml: that file describes the real cluster, and `deploy --sandbox`
 * finds the simulated file system without it.
 */
export async function createInSandbox(input: SandboxCreateInput): Promise<KubeStepContext> {
  const { values } = input;
  const sandbox = await startSandbox({
    stateDir: input.stateDir,
    region: values.region,
    zones: values.zones,
    nodes: values.zones.length,
    kubernetesVersion: values.kubernetesVersion,
    speed: input.speed,
  });
  try {
    const connect = { kubeconfigText: sandbox.kubeconfig(), env: input.env, signal: input.target.io.signal };
    const kube = await connectKube(connect);
    const context: KubeStepContext = {
      values: {
        ...values,
        zones: await sandboxZones(kube, values.zones),
        kubernetesVersion: sandbox.kubernetesVersion,
      },
      clusterConfig: "",
      kube,
      mountTargetsCreated: [],
      warnings: [],
      done: [],
    };
    return await runTasks(
      input.target,
      [
        sandboxAddonsTask({ timeoutMs: 5 * 60_000 }),
        sandboxStorageTask({ fileSystemId: input.fileSystemId }),
        storageTask(connect),
        verifyTask(connect, { simulated: true }),
      ],
      context,
    );
  } finally {
    await sandbox.stop();
  }
}
