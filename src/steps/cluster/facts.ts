/**
 * Gathering what `cluster verify` judges: the control plane's subnet zones and the EFS mount targets from
 * AWS (EKS, EC2, EFS through the adapters, wherever the environment points them), everything else from
 * the Kubernetes API.
 */
import type { ListrTask } from "listr2";
import {
  type AwsClients,
  addonConfiguration,
  describeCluster,
  eksVersions,
  listMountTargets,
  subnetZones,
} from "../../adapters/aws.js";
import type { Kube, KubeConnectOptions } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import {
  KUBE_SYSTEM,
  SNAPSHOT_CONTROLLER_DEPLOYMENT,
  VPC_CNI_DAEMONSET,
} from "../../core/cluster/constants.js";
import {
  deploymentAvailable,
  networkPolicyFromAddonConfig,
  networkPolicyFromDaemonSet,
  nodeFacts,
} from "../../core/cluster/facts.js";
import { evaluateCluster, type VerifyFacts } from "../../core/cluster/verify.js";
import { type KubeStepContext, kubeFor } from "./connect.js";
import { findClusterFileSystem } from "./efs.js";

export interface FactSources {
  kube: Kube;
  clusterName: string;
  aws?: AwsClients;
  /** The EFS id from the configuration, when known (else it is found by tag). */
  fileSystemId?: string;
}

async function awsFacts(
  sources: FactSources,
): Promise<Pick<VerifyFacts, "controlPlaneSubnetZones" | "efs" | "kubernetes">> {
  if (!sources.aws)
    return { controlPlaneSubnetZones: { unknown: "no AWS access" }, efs: { unknown: "no AWS access" } };
  const { eks, ec2, efs } = sources.aws;
  const cluster = await describeCluster(eks, sources.clusterName);
  const controlPlaneSubnetZones = cluster
    ? [...(await subnetZones(ec2, cluster.subnetIds)).values()]
    : { unknown: `EKS has no cluster named ${sources.clusterName} in ${sources.aws.region}` };
  const fileSystemId = sources.fileSystemId ?? (await findClusterFileSystem(efs, sources.clusterName))?.id;
  const efsFacts = fileSystemId
    ? {
        fileSystemId,
        mountTargetZones: (await listMountTargets(efs, fileSystemId))
          .filter((m) => m.state === "available")
          .map((m) => m.zone),
      }
    : undefined;
  const versions = cluster?.version ? await eksVersions(eks) : undefined;
  const kubernetes = cluster?.version && versions ? { version: cluster.version, versions } : undefined;
  return { controlPlaneSubnetZones, efs: efsFacts, kubernetes };
}

export async function gatherFacts(sources: FactSources): Promise<VerifyFacts> {
  const { kube } = sources;
  const [nodes, awsNode, csiDrivers, snapshotController, fromAws] = await Promise.all([
    kube.list(Kinds.Node),
    kube.get(named(Kinds.DaemonSet, VPC_CNI_DAEMONSET, KUBE_SYSTEM)),
    kube.list(Kinds.CSIDriver),
    kube.get(named(Kinds.Deployment, SNAPSHOT_CONTROLLER_DEPLOYMENT, KUBE_SYSTEM)),
    awsFacts(sources),
  ]);
  const networkPolicy = networkPolicyFromDaemonSet(awsNode);
  if (!networkPolicy.enabled && sources.aws) {
    // Tell "never asked for" apart from "asked for, not rolled out yet": the addon's own configuration.
    const values = await addonConfiguration(sources.aws.eks, sources.clusterName, "vpc-cni");
    networkPolicy.evidence +=
      values === null
        ? "; the vpc-cni addon is not installed as an EKS addon"
        : `; vpc-cni addon ${networkPolicyFromAddonConfig(values ?? undefined) ? "asks for it (not rolled out yet?)" : `configurationValues: ${values || "(none)"}`}`;
  }
  return {
    ...fromAws,
    nodes: nodeFacts(nodes),
    networkPolicy,
    csiDrivers: csiDrivers.map((d) => d.metadata?.name ?? "").filter(Boolean),
    snapshotController: deploymentAvailable(snapshotController),
  };
}

/** The last step of `cluster create`: verify what was made (the report decides the exit code). */
export function verifyTask(connect: KubeConnectOptions): ListrTask<KubeStepContext> {
  return {
    title: "Verify: zones, workers, network policy, CSI drivers, EFS mount targets",
    task: async (context, task) => {
      const kube = await kubeFor(context, connect);
      const facts = await gatherFacts({
        kube,
        clusterName: context.values.name,
        aws: context.clients,
        fileSystemId: context.fileSystemId,
      });
      context.report = evaluateCluster(context.values.name, facts);
      const failed = context.report.checks.filter((c) => !c.ok).length;
      task.title = failed === 0 ? "Verify: all checks passed" : `Verify: ${failed} check(s) failed`;
    },
  };
}
