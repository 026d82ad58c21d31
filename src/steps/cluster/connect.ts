/**
 * The Kubernetes connection the `cluster` steps share, checked to reach the cluster being worked on.
 */
import { type AwsClients, describeCluster } from "../../adapters/aws.js";
import { connectKube, type Kube, type KubeConnectOptions } from "../../adapters/kube.js";
import { UsageError } from "../../errors.js";
import type { ClusterContext } from "./context.js";

export interface KubeStepContext extends ClusterContext {
  kube?: Kube;
}

/** The connection to the cluster being created, checked to reach it (not another cluster's context). */
export async function kubeFor(context: KubeStepContext, options: KubeConnectOptions): Promise<Kube> {
  if (!context.kube) {
    const kube = await connectKube(options);
    if (context.described) assertContextReaches(kube, context.described, context.values.region);
    context.kube = kube;
  }
  context.kubeContext = context.kube.context;
  return context.kube;
}

/** The connection to an existing cluster, checked to reach it when EKS knows the cluster. */
export async function connectToCluster(input: {
  clients: AwsClients;
  name: string;
  region: string;
  connect: KubeConnectOptions;
}): Promise<Kube> {
  const cluster = await describeCluster(input.clients.eks, input.name);
  const kube = await connectKube(input.connect);
  if (cluster) assertContextReaches(kube, cluster, input.region);
  return kube;
}

/**
 * The kubeconfig context must reach the cluster being verified or deleted: deleting another cluster's
 * load balancers, or verifying the wrong cluster, would be worse than stopping.
 */
export function assertContextReaches(
  kube: Kube,
  cluster: { name: string; endpoint?: string },
  region: string,
): void {
  if (!cluster.endpoint) return;
  const normalize = (url: string) => url.toLowerCase().replace(/\/+$/, "");
  if (normalize(kube.server) !== normalize(cluster.endpoint)) {
    throw new UsageError(
      `The kubeconfig context ${kube.context} points at ${kube.server}, not at cluster ${cluster.name} (${cluster.endpoint}).`,
      {
        hint: `Write its context with \`aws eks update-kubeconfig --name ${cluster.name} --region ${region}\`, or pass --context.`,
      },
    );
  }
}
