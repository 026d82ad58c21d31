/**
 * What `cluster create --sandbox` does to the simulated cluster in place of eksctl and AWS. The sandbox
 * seeds nodes, the CSI drivers and the VPC CNI's aws-node DaemonSet; these objects add what the EKS
 * addons clouddrove asks for would add (the network policy agent, the snapshot controller), and a record
 * of the AWS side the sandbox has no API for: the control plane's subnet zones and the EFS file system
 * with its mount targets. Pure.
 */
import { KUBE_SYSTEM, SNAPSHOT_CONTROLLER_DEPLOYMENT, VPC_CNI_DAEMONSET } from "./constants.js";
import type { ManifestObject } from "./storage-objects.js";

/** The ConfigMap holding the simulated AWS facts (kept in the sandbox's own saved state). */
export const SIMULATED_AWS = { namespace: KUBE_SYSTEM, name: "clouddrove-sandbox-aws" } as const;

export interface SimulatedAws {
  controlPlaneSubnetZones: string[];
  efs?: { fileSystemId: string; mountTargetZones: string[] };
}

/** vpc-cni with configurationValues {"enableNetworkPolicy": "true"}: the node agent enforces policies. */
export function networkPolicyAgent(region: string): ManifestObject {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: VPC_CNI_DAEMONSET, namespace: KUBE_SYSTEM },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: "aws-eks-nodeagent",
              image: `602401143452.dkr.ecr.${region}.amazonaws.com/amazon/aws-network-policy-agent:v1.2.1-eksbuild.1`,
              args: [
                "--enable-ipv6=false",
                "--enable-network-policy=true",
                "--enable-cloudwatch-logs=false",
                "--metrics-bind-addr=:8162",
                "--health-probe-bind-addr=:8163",
              ],
              resources: { requests: { cpu: "25m" } },
            },
          ],
        },
      },
    },
  };
}

/** The snapshot-controller addon's Deployment. */
export function snapshotController(): ManifestObject {
  const labels = { app: SNAPSHOT_CONTROLLER_DEPLOYMENT };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: SNAPSHOT_CONTROLLER_DEPLOYMENT, namespace: KUBE_SYSTEM, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: "snapshot-controller",
              image: "registry.k8s.io/sig-storage/snapshot-controller:v8.2.0",
              args: ["--v=2", "--leader-election=true"],
              resources: { requests: { cpu: "10m", memory: "32Mi" } },
            },
          ],
        },
      },
    },
  };
}

export function simulatedAwsConfigMap(facts: SimulatedAws): ManifestObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      ...SIMULATED_AWS,
      labels: { "app.kubernetes.io/managed-by": "clouddrove" },
    },
    data: {
      note: "What AWS would hold for this simulated cluster (written by `clouddrove cluster create --sandbox`).",
      controlPlaneSubnetZones: facts.controlPlaneSubnetZones.join(","),
      ...(facts.efs
        ? {
            efsFileSystemId: facts.efs.fileSystemId,
            efsMountTargetZones: facts.efs.mountTargetZones.join(","),
          }
        : {}),
    },
  };
}

const list = (text: unknown) =>
  typeof text === "string" && text !== "" ? text.split(",").map((z) => z.trim()) : [];

/** Undefined when the sandbox was never set up by `cluster create --sandbox`. */
export function simulatedAwsFromConfigMap(
  configMap: { data?: Record<string, string> } | undefined,
): SimulatedAws | undefined {
  if (!configMap?.data) return undefined;
  const { data } = configMap;
  return {
    controlPlaneSubnetZones: list(data.controlPlaneSubnetZones),
    efs: data.efsFileSystemId
      ? { fileSystemId: data.efsFileSystemId, mountTargetZones: list(data.efsMountTargetZones) }
      : undefined,
  };
}
