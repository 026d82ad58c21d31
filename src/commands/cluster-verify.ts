/**
 * `clouddrove cluster verify`: the EKS cluster's facts (from EKS, EC2 and EFS through the AWS adapters,
 * and from the Kubernetes API), judged and shown as a table. With --sandbox the same, against the
 * sandbox's cluster and its AWS endpoint.
 */
import type { Kube } from "../adapters/kube.js";
import { clusterSettings, type Flags } from "./cluster-settings.js";
import { type ClusterTarget, kubeConnection, withTargetSettings } from "./cluster-target.js";
import type { CommandContext } from "./context.js";

export async function clusterVerify(ctx: CommandContext, flags: Flags): Promise<void> {
  const { connectKube } = await import("../adapters/kube.js");
  let target: ClusterTarget | undefined;
  if (flags.sandbox === true) {
    const { UsageError } = await import("../errors.js");
    const { defaultStateDir, loadState } = await import("@clouddrove/sandbox");
    if ((await loadState(defaultStateDir(ctx.io.env))) === undefined) {
      throw new UsageError("There is no sandbox cluster yet.", {
        hint: "Create it with `clouddrove cluster create --sandbox`.",
      });
    }
    const { openClusterTarget } = await import("./cluster-target.js");
    target = await openClusterTarget(ctx, { sandbox: true });
  }
  try {
    const kube = target?.kube ?? (await connectKube(kubeConnection(ctx)));
    await verify(ctx, withTargetSettings(target?.settings, flags), kube);
  } finally {
    await target?.close();
  }
}

async function verify(ctx: CommandContext, flags: Flags, kube: Kube): Promise<void> {
  const { describeCluster } = await import("../adapters/aws.js");
  const { assertContextReaches } = await import("../steps/cluster/connect.js");
  const { gatherFacts } = await import("../steps/cluster/facts.js");
  const { evaluateCluster, renderVerifyTable } = await import("../core/cluster/verify.js");
  const { resolved, values, clients } = await clusterSettings(ctx, flags, false);
  const cluster = await describeCluster(clients.eks, values.name);
  if (cluster) assertContextReaches(kube, cluster, values.region);
  const facts = await gatherFacts({
    kube,
    clusterName: values.name,
    aws: clients,
    fileSystemId: resolved.config.storage.efs.fileSystemId,
  });
  const report = evaluateCluster(values.name, facts);
  if (!report.ok) ctx.state.exitCode = 1;
  await ctx.out.result(report, () => renderVerifyTable(report, ctx.out.paint));
}
