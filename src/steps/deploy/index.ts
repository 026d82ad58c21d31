/**
 * The steps of `deploy`, in order. A server dry run or --diff stops after the apply (nothing was
 * stored, so there is nothing to wait for).
 */
import type { ListrTask } from "listr2";
import { applyStep } from "./apply.js";
import type { DeployContext } from "./context.js";
import { nodeTrustStep } from "./node-trust.js";
import { preflightStep } from "./preflight.js";
import { pruneStep } from "./prune.js";
import { pullSecretStep } from "./pull-secret.js";
import { smokeTestStep } from "./smoke.js";
import { serverCertificateStep } from "./tls.js";
import { waitForClaimStep, waitForLoadBalancerStep, waitForRolloutStep } from "./wait.js";

export function deployTasks(options: { dryRun: boolean }): ListrTask<DeployContext>[] {
  const tasks = [preflightStep(), applyStep(), pruneStep()];
  if (options.dryRun) return tasks;
  return [
    ...tasks,
    waitForClaimStep(),
    // The load balancer's address before the rollout: the server certificate names it, and the pods
    // serve that certificate.
    waitForLoadBalancerStep(),
    serverCertificateStep(),
    waitForRolloutStep(),
    // After the rollout: the pods serve the certificate the nodes are told to trust for these addresses.
    nodeTrustStep(),
    pullSecretStep(),
    smokeTestStep(),
  ];
}
