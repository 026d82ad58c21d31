/**
 * EKS: whether the cluster exists and where its control plane's subnets are, its addons' configuration,
 * the Kubernetes versions EKS offers, and a managed node group's version update (what `eksctl upgrade
 * nodegroup` asks EKS for, and waits on, for a node group on an EKS-managed AMI).
 */
import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeClusterVersionsCommand,
  DescribeNodegroupCommand,
  type EKSClient,
  UpdateNodegroupVersionCommand,
  type UpdateNodegroupVersionCommandOutput,
} from "@aws-sdk/client-eks";
import type { EksVersion, SupportPhase } from "../../core/cluster/versions.js";
import { OperationError } from "../../errors.js";
import { waitForUpdate } from "./eks-updates.js";
import { aws, isAwsError } from "./errors.js";
import type { PollOptions } from "./poll.js";

export interface ClusterInfo {
  name: string;
  status: string;
  version?: string;
  vpcId?: string;
  subnetIds: string[];
  /** The security group EKS attaches to managed node group nodes. */
  clusterSecurityGroupId?: string;
  endpoint?: string;
  /** The cluster's OIDC issuer URL (https://oidc.eks.REGION.amazonaws.com/id/ID), which IRSA trusts. */
  oidcIssuer?: string;
}

export async function describeCluster(eks: EKSClient, name: string): Promise<ClusterInfo | undefined> {
  try {
    const answer = await eks.send(new DescribeClusterCommand({ name }));
    const c = answer.cluster;
    return {
      name,
      status: c?.status ?? "UNKNOWN",
      version: c?.version,
      vpcId: c?.resourcesVpcConfig?.vpcId,
      subnetIds: c?.resourcesVpcConfig?.subnetIds ?? [],
      clusterSecurityGroupId: c?.resourcesVpcConfig?.clusterSecurityGroupId,
      endpoint: c?.endpoint,
      oidcIssuer: c?.identity?.oidc?.issuer,
    };
  } catch (error) {
    if (isAwsError(error, "ResourceNotFoundException")) return undefined;
    return aws(`describing EKS cluster ${name}`, () => Promise.reject(error));
  }
}

/** The addon's configurationValues; null when the addon is not installed. */
export async function addonConfiguration(
  eks: EKSClient,
  clusterName: string,
  addonName: string,
): Promise<string | undefined | null> {
  try {
    const answer = await eks.send(new DescribeAddonCommand({ clusterName, addonName }));
    return answer.addon?.configurationValues;
  } catch (error) {
    if (isAwsError(error, "ResourceNotFoundException")) return null;
    return aws(`describing addon ${addonName}`, () => Promise.reject(error));
  }
}

const PHASES: Record<string, SupportPhase> = {
  STANDARD_SUPPORT: "standard",
  EXTENDED_SUPPORT: "extended",
  UNSUPPORTED: "unsupported",
};

/**
 * The Kubernetes minors EKS knows, with their support phase, dates and which one new clusters get by
 * default. Undefined when the identity may not ask (the checks then fall back to eksctl's and EKS's own
 * refusal).
 */
export async function eksVersions(eks: EKSClient): Promise<EksVersion[] | undefined> {
  const versions = new Map<string, EksVersion>();
  let nextToken: string | undefined;
  try {
    do {
      const answer = await eks.send(new DescribeClusterVersionsCommand({ nextToken, includeAll: true }));
      for (const v of answer.clusterVersions ?? []) {
        // versionStatus replaced status (standard-support, ...); an answer may carry either.
        const phase = String(v.versionStatus ?? v.status ?? "")
          .toUpperCase()
          .replace(/-/g, "_");
        if (!v.clusterVersion) continue;
        versions.set(v.clusterVersion, {
          version: v.clusterVersion,
          support: PHASES[phase] ?? "standard",
          isDefault: v.defaultVersion === true,
          endOfStandardSupport: v.endOfStandardSupportDate?.toISOString(),
          endOfExtendedSupport: v.endOfExtendedSupportDate?.toISOString(),
        });
      }
      nextToken = answer.nextToken;
    } while (nextToken);
  } catch (error) {
    if (isAwsError(error, "AccessDeniedException", "AccessDenied", "UnknownOperationException"))
      return undefined;
    return aws("listing the Kubernetes versions EKS offers", () => Promise.reject(error));
  }
  return [...versions.values()].sort(
    (a, b) => Number(a.version.split(".")[1]) - Number(b.version.split(".")[1]),
  );
}

/** Minors EKS offers for new clusters (standard or extended support); undefined when it does not say. */
export function offeredForNewClusters(versions: readonly EksVersion[] | undefined): string[] | undefined {
  return versions?.filter((v) => v.support !== "unsupported").map((v) => v.version);
}

export interface NodegroupInfo {
  name: string;
  /** Kubernetes minor of the group's nodes, e.g. "1.33". */
  version?: string;
  status: string;
}

export async function describeNodegroup(
  eks: EKSClient,
  clusterName: string,
  nodegroupName: string,
): Promise<NodegroupInfo> {
  const answer = await aws(`describing nodegroup ${nodegroupName} of EKS cluster ${clusterName}`, () =>
    eks.send(new DescribeNodegroupCommand({ clusterName, nodegroupName })),
  );
  return {
    name: nodegroupName,
    version: answer.nodegroup?.version,
    status: answer.nodegroup?.status ?? "UNKNOWN",
  };
}

/**
 * Asks EKS to move the node group to `version` (it starts new nodes, drains and removes the old ones)
 * and waits until the update succeeded; a failed or cancelled update is an OperationError naming EKS's
 * reasons. Returns the update's id.
 */
export async function updateNodegroupVersion(
  eks: EKSClient,
  input: { clusterName: string; nodegroupName: string; version: string },
  poll: Omit<PollOptions, "what">,
  onStatus?: (status: string) => void,
): Promise<string> {
  const { clusterName, nodegroupName, version } = input;
  let started: UpdateNodegroupVersionCommandOutput;
  try {
    started = await eks.send(new UpdateNodegroupVersionCommand({ clusterName, nodegroupName, version }));
  } catch (error) {
    if (isAwsError(error, "ResourceInUseException")) {
      throw new OperationError(`EKS is already updating nodegroup ${nodegroupName}.`, {
        cause: error,
        hint: `Wait until \`aws eks list-updates --name ${clusterName} --nodegroup-name ${nodegroupName}\` shows it finished, then run again with --resume.`,
      });
    }
    return aws(`asking EKS to update nodegroup ${nodegroupName} to ${version}`, () => Promise.reject(error));
  }
  const updateId = started.update?.id as string;
  onStatus?.(`EKS update ${updateId}: ${started.update?.status ?? "InProgress"}`);
  await waitForUpdate(
    eks,
    { clusterName, nodegroupName },
    updateId,
    version,
    poll,
    onStatus,
    "fix the cause (e.g. a PodDisruptionBudget that allows no eviction), then --resume.",
  );
  return updateId;
}
