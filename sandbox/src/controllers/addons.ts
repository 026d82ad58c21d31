/**
 * What the EKS addons clouddrove's ClusterConfig asks for add to a cluster beyond what the sandbox seeds:
 * the VPC CNI's network policy agent (configurationValues {"enableNetworkPolicy": "true"}: a second
 * container in aws-node) and the snapshot controller. eksctl installs them on EKS; `installEksAddons`
 * does it to the sandbox, and waits until the snapshot controller is available.
 */
import { sleep } from "../clock.js";
import { OperationError } from "../errors.js";
import { ApiError, type KubeObject, type ObjectStore, type SandboxClock } from "../types.js";
import { clusterInfo } from "./seed.js";

const KUBE_SYSTEM = "kube-system";
const SNAPSHOT_CONTROLLER = "snapshot-controller";

function networkPolicyAgent(region: string) {
  return {
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
  };
}

function snapshotController(): KubeObject {
  const labels = { app: SNAPSHOT_CONTROLLER };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: SNAPSHOT_CONTROLLER, namespace: KUBE_SYSTEM, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: SNAPSHOT_CONTROLLER,
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

/** Adds the network policy agent to aws-node and creates the snapshot controller (each when missing). */
export async function installEksAddons(
  sandbox: { store: ObjectStore; clock: SandboxClock },
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const { store, clock } = sandbox;
  const awsNode = store.get("DaemonSet", KUBE_SYSTEM, "aws-node");
  if (awsNode) {
    const next = structuredClone(awsNode);
    const containers: Array<{ name: string }> = next.spec.template.spec.containers ?? [];
    if (!containers.some((c) => c.name === "aws-eks-nodeagent")) {
      containers.push(networkPolicyAgent(clusterInfo(store).region));
      next.spec.template.spec.containers = containers;
      store.update(next);
    }
  }
  try {
    store.create(snapshotController());
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 409)) throw error;
  }
  const deadline = clock.now() + (options.timeoutMs ?? 5 * 60_000);
  for (;;) {
    const deployment = store.get("Deployment", KUBE_SYSTEM, SNAPSHOT_CONTROLLER);
    if ((deployment?.status?.availableReplicas ?? 0) >= 1) return;
    if (clock.now() >= deadline) {
      throw new OperationError("The snapshot controller did not become available in the sandbox.", {
        hint: "Check `kubectl -n kube-system get deployment snapshot-controller` against the sandbox.",
      });
    }
    await sleep(clock, 1000);
  }
}
