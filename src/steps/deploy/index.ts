/**
 * The steps of `deploy`, in order. A server dry run or --diff stops after the apply (nothing was
 * stored, so there is nothing to wait for).
 */
import type { ListrTask } from "listr2";
import { acmCertificateStep, dnsRecordStep } from "./acm.js";
import { applyStep } from "./apply.js";
import type { DeployContext } from "./context.js";
import { nodeTrustStep } from "./node-trust.js";
import { preflightStep } from "./preflight.js";
import { pruneStep } from "./prune.js";
import { pullSecretStep } from "./pull-secret.js";
import { smokeTestStep } from "./smoke.js";
import { serverCertificateStep } from "./tls.js";
import { certManagerStep, servedSecretCoverageStep } from "./tls-secret.js";
import { waitForClaimStep, waitForLoadBalancerStep, waitForRolloutStep } from "./wait.js";

export function deployTasks(options: { dryRun: boolean }): ListrTask<DeployContext>[] {
  // The TLS mode's own checks and objects before the registry's: nothing is applied with a certificate
  // that cannot serve (acm), and the pods start with the certificate cert-manager issued.
  const tasks = [preflightStep(), acmCertificateStep(), certManagerStep(), applyStep(), pruneStep()];
  if (options.dryRun) return tasks;
  return [
    ...tasks,
    waitForClaimStep(),
    // The load balancer's address before the rollout: the server certificate names it, and the pods
    // serve that certificate.
    waitForLoadBalancerStep(),
    serverCertificateStep(),
    servedSecretCoverageStep(),
    dnsRecordStep(),
    waitForRolloutStep(),
    // After the rollout: the pods serve the certificate the nodes are told to trust for these addresses.
    nodeTrustStep(),
    pullSecretStep(),
    smokeTestStep(),
  ];
}
