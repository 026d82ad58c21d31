/**
 * EKS: whether the cluster exists and where its control plane's subnets are, its addons' configuration,
 * and the Kubernetes versions EKS offers.
 */
import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeClusterVersionsCommand,
  type EKSClient,
} from "@aws-sdk/client-eks";
import { aws, isAwsError } from "./errors.js";

export interface ClusterInfo {
  name: string;
  status: string;
  version?: string;
  vpcId?: string;
  subnetIds: string[];
  /** The security group EKS attaches to managed node group nodes. */
  clusterSecurityGroupId?: string;
  endpoint?: string;
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

/**
 * Minors EKS offers for new clusters (standard or extended support). Undefined when the identity may not
 * ask (the check then falls back to eksctl's and EKS's own refusal).
 */
export async function supportedVersions(eks: EKSClient): Promise<string[] | undefined> {
  const versions: string[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const answer = await eks.send(new DescribeClusterVersionsCommand({ nextToken }));
      for (const v of answer.clusterVersions ?? []) {
        const status = String(v.versionStatus ?? v.status ?? "")
          .toUpperCase()
          .replace(/-/g, "_");
        if (v.clusterVersion && status !== "UNSUPPORTED") versions.push(v.clusterVersion);
      }
      nextToken = answer.nextToken;
    } while (nextToken);
  } catch (error) {
    if (isAwsError(error, "AccessDeniedException", "AccessDenied", "UnknownOperationException"))
      return undefined;
    return aws("listing the Kubernetes versions EKS offers", () => Promise.reject(error));
  }
  return [...new Set(versions)].sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
}
