/**
 * `clouddrove cluster verify`: the EKS cluster's facts (from EKS, EC2 and EFS through the AWS adapters,
 * and from the Kubernetes API), judged and shown as a table. With --sandbox the same, against the
 * sandbox's cluster (its kubeconfig) and its AWS endpoint.
 */
import { clusterSettings, type Flags } from "./cluster-settings.js";
import { kubeConnection, runningSandbox, sandboxSettings, withTargetSettings } from "./cluster-target.js";
import type { CommandContext } from "./context.js";

export async function clusterVerify(ctx: CommandContext, flags: Flags): Promise<void> {
  const { connectToCluster } = await import("../steps/cluster/connect.js");
  const { gatherFacts } = await import("../steps/cluster/facts.js");
  const { evaluateCluster, renderVerifyTable } = await import("../core/cluster/verify.js");
  let settings: Flags = flags;
  let connect = kubeConnection(ctx);
  if (flags.sandbox === true) {
    const { UsageError } = await import("../errors.js");
    const { loadSandboxPackage } = await import("./sandbox-package.js");
    const { defaultStateDir, loadState } = await loadSandboxPackage();
    if ((await loadState(defaultStateDir(ctx.io.env))) === undefined) {
      throw new UsageError("There is no sandbox cluster yet.", {
        hint: "Create it with `clouddrove cluster create --sandbox`.",
      });
    }
    const sandbox = await runningSandbox(ctx);
    settings = withTargetSettings(sandboxSettings(sandbox), flags) as Flags;
    // After runningSandbox: the command's environment now has the sandbox's AWS side.
    connect = {
      kubeconfigPath: sandbox.kubeconfig,
      context: sandbox.context,
      env: ctx.io.env,
      signal: ctx.io.signal,
    };
  }
  const { resolved, values, clients } = await clusterSettings(ctx, settings, false);
  const kube = await connectToCluster({ clients, name: values.name, region: values.region, connect });
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
