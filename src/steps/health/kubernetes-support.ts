/**
 * `status`'s look at the cluster's Kubernetes version against EKS's calendar: the version the API server
 * reports, and what EKS DescribeClusterVersions says of it (standard support ending within
 * SUPPORT_WARNING_DAYS, extended support and its cost). Only a warning, and only when it can be known:
 * without a region, without AWS credentials, or when AWS does not answer in time, it says nothing and
 * the status is as before.
 */
import type { Kube } from "../../adapters/kube.js";
import { supportWarning } from "../../core/cluster/versions.js";
import { formatMinor, minorVersion } from "../../core/upgrade/targets.js";

/** How long status waits for EKS's calendar: a status is a quick look, not a wait for AWS. */
const EKS_ANSWER_MS = 5000;

export async function kubernetesSupportWarning(
  kube: Kube,
  region: string | undefined,
  env: NodeJS.ProcessEnv,
  now: Date,
): Promise<string | undefined> {
  if (!region) return undefined;
  try {
    const minor = minorVersion(await kube.serverVersion());
    if (!minor) return undefined;
    // Loaded only here: the AWS SDK costs a status that does not reach AWS ~100 MiB.
    const [{ awsClients }, { eksVersions }] = await Promise.all([
      import("../../adapters/aws.js"),
      import("../../adapters/aws/eks.js"),
    ]);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), EKS_ANSWER_MS);
      timer.unref();
    });
    const versions = await Promise.race([eksVersions(awsClients(region, env).eks), late]).finally(() =>
      clearTimeout(timer),
    );
    return versions ? supportWarning(formatMinor(minor), versions, now) : undefined;
  } catch {
    // AWS unreachable or refusing (no credentials, another account): the calendar is unknown, not a problem.
    return undefined;
  }
}
