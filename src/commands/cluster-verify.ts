/** `clouddrove cluster verify`: the EKS cluster's (or the sandbox's) facts, judged and shown as a table. */
import type { VerifyFacts } from "../core/cluster/verify.js";
import { clusterSettings, type Flags } from "./cluster-settings.js";
import { kubeConnection } from "./cluster-target.js";
import type { CommandContext } from "./context.js";

export async function clusterVerify(ctx: CommandContext, flags: Flags): Promise<void> {
  const { connectToCluster } = await import("../steps/cluster/connect.js");
  const { gatherFacts, readSimulatedAws } = await import("../steps/cluster/facts.js");
  const { evaluateCluster, renderVerifyTable } = await import("../core/cluster/verify.js");

  let facts: VerifyFacts;
  let name: string;
  if (flags.sandbox === true) {
    const { resolveFromContext } = await import("../config/options.js");
    const { UsageError } = await import("../errors.js");
    const { defaultStateDir } = await import("@clouddrove/sandbox");
    const { loadState } = await import("@clouddrove/sandbox");
    const { openClusterTarget } = await import("./cluster-target.js");
    const { config } = await resolveFromContext(ctx, flags);
    name = config.cluster.name;
    if ((await loadState(defaultStateDir(ctx.io.env))) === undefined) {
      throw new UsageError("There is no sandbox cluster yet.", {
        hint: "Create it with `clouddrove cluster create --sandbox`.",
      });
    }
    const target = await openClusterTarget(ctx, { sandbox: true });
    try {
      const simulated = await readSimulatedAws(target.kube);
      facts = await gatherFacts({ kube: target.kube, clusterName: name, simulated });
    } finally {
      await target.close();
    }
  } else {
    const { resolved, values, clients } = await clusterSettings(ctx, flags, false);
    name = values.name;
    const kube = await connectToCluster({
      clients,
      name: values.name,
      region: values.region,
      connect: kubeConnection(ctx),
    });
    facts = await gatherFacts({
      kube,
      clusterName: values.name,
      aws: clients,
      fileSystemId: resolved.config.storage.efs.fileSystemId,
    });
  }
  const report = evaluateCluster(name, facts);
  if (!report.ok) ctx.state.exitCode = 1;
  await ctx.out.result(report, () => renderVerifyTable(report, ctx.out.paint));
}
