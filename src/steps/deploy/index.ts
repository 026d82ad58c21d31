/**
 * The steps of `deploy`, in order. A server dry run or --diff stops after the apply (nothing was
 * stored, so there is nothing to wait for).
 */
import type { ListrTask } from "listr2";
import type { Config } from "../../config/schema.js";
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

/** The TLS mode's own steps, only in that mode (the report lists no step another mode would skip). */
function tlsModeSteps(tls: Config["tls"]) {
  const acm = tls.mode === "acm";
  const issued = tls.mode === "secret" && Boolean(tls.certManagerIssuer);
  return {
    // Before the registry's objects: nothing is applied with a certificate that cannot serve (acm), and
    // the pods start with the certificate cert-manager issued.
    beforeApply: [...(acm ? [acmCertificateStep()] : []), ...(issued ? [certManagerStep()] : [])],
    // Once the load balancer has its address.
    afterAddress: [
      ...(tls.mode === "secret" && !tls.hostname ? [servedSecretCoverageStep()] : []),
      ...(acm ? [dnsRecordStep()] : []),
    ],
  };
}

export function deployTasks(options: { dryRun: boolean; tls: Config["tls"] }): ListrTask<DeployContext>[] {
  const mode = tlsModeSteps(options.tls);
  const tasks = [preflightStep(), ...mode.beforeApply, applyStep(), pruneStep()];
  if (options.dryRun) return tasks;
  return [
    ...tasks,
    waitForClaimStep(),
    // The load balancer's address before the rollout: the server certificate names it, and the pods
    // serve that certificate.
    waitForLoadBalancerStep(),
    serverCertificateStep(),
    ...mode.afterAddress,
    waitForRolloutStep(),
    // After the rollout: the pods serve the certificate the nodes are told to trust for these addresses.
    nodeTrustStep(),
    pullSecretStep(),
    smokeTestStep(),
  ];
}
