/**
 * Turning Kubernetes and EKS answers into the plain facts `evaluateCluster` judges. Pure: the adapters
 * fetch the objects, these functions read them.
 */
import { ZONE_LABEL } from "./constants.js";
import type { NodeFact } from "./verify.js";

interface Condition {
  type?: string;
  status?: string;
}

interface NodeLike {
  metadata?: { name?: string; labels?: Record<string, string> };
  status?: { conditions?: Condition[] };
}

export function nodeFacts(nodes: readonly NodeLike[]): NodeFact[] {
  return nodes.map((node) => ({
    name: node.metadata?.name ?? "(unnamed)",
    zone: node.metadata?.labels?.[ZONE_LABEL],
    ready: (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
  }));
}

interface ContainerLike {
  name?: string;
  args?: string[];
  command?: string[];
  env?: Array<{ name?: string; value?: string }>;
}

interface DaemonSetLike {
  spec?: { template?: { spec?: { containers?: ContainerLike[] } } };
}

/**
 * The VPC CNI enforces NetworkPolicies when its node agent (container aws-eks-nodeagent in the aws-node
 * DaemonSet; aws-network-policy-agent in older manifests) runs with --enable-network-policy=true.
 */
export function networkPolicyFromDaemonSet(daemonSet: DaemonSetLike | undefined): {
  enabled: boolean;
  evidence: string;
} {
  if (!daemonSet)
    return { enabled: false, evidence: "no aws-node DaemonSet in kube-system (VPC CNI missing)" };
  const containers = daemonSet.spec?.template?.spec?.containers ?? [];
  for (const container of containers) {
    const flags = [...(container.command ?? []), ...(container.args ?? [])];
    const flag = flags.find((a) => a.startsWith("--enable-network-policy"));
    if (flag) {
      const enabled = flag === "--enable-network-policy" || flag === "--enable-network-policy=true";
      return { enabled, evidence: `aws-node container ${container.name ?? "?"}: ${flag}` };
    }
  }
  return { enabled: false, evidence: "aws-node has no network policy agent (VPC CNI older than 1.14?)" };
}

/** The vpc-cni addon's configurationValues (a JSON string) ask for enforcement. */
export function networkPolicyFromAddonConfig(configurationValues: string | undefined): boolean {
  if (!configurationValues) return false;
  try {
    const parsed = JSON.parse(configurationValues) as { enableNetworkPolicy?: unknown };
    return parsed.enableNetworkPolicy === "true" || parsed.enableNetworkPolicy === true;
  } catch {
    return false;
  }
}

interface DeploymentLike {
  spec?: { replicas?: number };
  status?: { availableReplicas?: number };
}

export function deploymentAvailable(deployment: DeploymentLike | undefined): {
  present: boolean;
  ready: boolean;
} {
  if (!deployment) return { present: false, ready: false };
  return { present: true, ready: (deployment.status?.availableReplicas ?? 0) >= 1 };
}
