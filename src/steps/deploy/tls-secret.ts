/**
 * deploy with tls.mode secret (docs/tls.md): the Secret the registry serves is read, and checked when it
 * is the user's, before anything is rendered; cert-manager's Certificate is applied and waited for
 * before the registry objects are; once the load balancer's address is known, a user's Secret must cover
 * it when no tls.hostname is set.
 */
import type { ListrTask } from "listr2";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import type { Config } from "../../config/schema.js";
import { refOf } from "../../core/deploy/objects.js";
import type { ServedSecret } from "../../core/render/index.js";
import {
  CERT_MANAGER_SECRET,
  certManagerCertificate,
  servedSecretName,
  setServedCertificate,
} from "../../core/render/tls-modes.js";
import {
  type CertManagerCertificate,
  certificateReady,
  notReadyReason,
} from "../../core/tls/cert-manager.js";
import { readCertificate } from "../../core/tls/certificates.js";
import { hostOf } from "../../core/tls/plan.js";
import { privateIssuer, type SecretContent, servedSecretProblems } from "../../core/tls/served-secret.js";
import { OperationError, UsageError } from "../../errors.js";
import type { DeployContext } from "./context.js";

const decoded = (data: Record<string, string> | undefined, key: string) =>
  typeof data?.[key] === "string" ? Buffer.from(data[key], "base64").toString("utf8") : undefined;

/** The Secret, decoded (its key stays in memory, for the pairing check only); undefined when absent. */
export async function readSecretContent(
  kube: Kube,
  namespace: string,
  name: string,
): Promise<SecretContent | undefined> {
  const secret = await kube.get(named(Kinds.Secret, name, namespace));
  if (!secret) return undefined;
  return {
    type: secret.type,
    certificate: decoded(secret.data, "tls.crt"),
    key: decoded(secret.data, "tls.key"),
    caCertificate: decoded(secret.data, "ca.crt"),
  };
}

/** What the render needs of a readable Secret: its certificate and, when private, its issuer's CA. */
function servedOf(name: string, content: SecretContent): ServedSecret {
  const privateCa = privateIssuer(content);
  return {
    secretName: name,
    certificate: content.certificate as string,
    ...(privateCa ? { privateCa } : {}),
  };
}

/** The names clients will ask the certificate for: tls.hostname, else the load balancer's (once known). */
function clientNames(config: Config, loadBalancerHost: string | undefined): string[] {
  if (config.tls.hostname) return [config.tls.hostname];
  return loadBalancerHost ? [loadBalancerHost] : [];
}

function secretHint(config: Config, name: string): string {
  return (
    `Create or fix it: \`kubectl create secret tls ${name} --cert=server.crt --key=server.key -n ${config.namespace}\` ` +
    "(tls.crt the server's certificate then its intermediates, covering the name clients use), or give another " +
    "--tls-secret, or let cert-manager issue one with --cert-manager-issuer."
  );
}

/**
 * Before the render: the served Secret. A user's Secret that cannot be served is exit 2, nothing changed.
 * cert-manager's is taken as it is when it exists (cert-manager keeps it valid); on a first deploy there is
 * none yet and the render waits for certManagerStep.
 */
export async function prepareServedSecret(
  kube: Kube,
  config: Config,
  loadBalancerHost: string | undefined,
  now: Date,
): Promise<ServedSecret | undefined> {
  const name = servedSecretName(config);
  const content = await readSecretContent(kube, config.namespace, name);
  if (config.tls.certManagerIssuer) {
    return content?.certificate ? servedOf(name, content) : undefined;
  }
  const where = `${config.namespace}/${name}`;
  const problems = await servedSecretProblems(content, where, clientNames(config, loadBalancerHost), now);
  if (problems.length > 0) {
    throw new UsageError(
      problems.length === 1
        ? `${problems[0]}; nothing was changed.`
        : `Secret ${where} cannot be the registry's certificate; nothing was changed.`,
      { details: problems.length === 1 ? [] : problems, hint: secretHint(config, name) },
    );
  }
  return servedOf(name, content as SecretContent);
}

/**
 * tls.certManagerIssuer: the Certificate applied (after checking cert-manager's API is served), Ready
 * waited for, and the Secret cert-manager wrote put into the render (the pod template's digest, the CA).
 */
export function certManagerStep(): ListrTask<DeployContext> {
  return {
    title: "cert-manager certificate",
    skip: (ctx) => (ctx.config.tls.certManagerIssuer ? false : "no cert-manager issuer"),
    task: async (ctx, task) => {
      const { config, kube } = ctx;
      const served = await kube.servedKinds("cert-manager.io/v1");
      if (!served?.includes("Certificate")) {
        throw new OperationError(
          "cert-manager's Certificate (cert-manager.io/v1) is not served by this cluster; nothing was changed.",
          {
            hint:
              "Install cert-manager (https://cert-manager.io/docs/installation/) and create the issuer, or give " +
              "--tls-secret NAME with a certificate of your own.",
          },
        );
      }
      const certificate = certManagerCertificate(config);
      const ref = named(Kinds.Certificate, certificate.metadata.name, config.namespace);
      const before = await kube.get(ref);
      const dryRun = ctx.options.serverDryRun || ctx.options.diff;
      const after = (await kube.apply(certificate, {
        force: ctx.options.forceConflicts,
        dryRun,
      })) as CertManagerCertificate & { metadata?: { resourceVersion?: string } };
      const changed = before?.metadata?.resourceVersion !== after.metadata?.resourceVersion;
      // The Ready condition must be about this spec: cert-manager sets observedGeneration on it.
      ctx.applied.push({
        ...refOf(certificate),
        action: !before ? "created" : changed ? "configured" : "unchanged",
      });
      if (dryRun) return;
      task.output = `waiting for cert-manager to issue ${config.tls.hostname} (Secret ${CERT_MANAGER_SECRET})`;
      try {
        await kube.waitFor(
          ref,
          (c) => certificateReady(c, after.metadata?.generation),
          ctx.options.timeoutMs,
        );
      } catch (error) {
        const now = await kube.get(ref);
        throw new OperationError(
          `cert-manager has not issued Certificate ${config.namespace}/${ref.name}: ${notReadyReason(now)}`,
          {
            cause: error,
            hint: `See \`kubectl describe certificate ${ref.name} -n ${config.namespace}\` and the issuer's status; deploy goes on from here when run again.`,
          },
        );
      }
      const content = await readSecretContent(kube, config.namespace, CERT_MANAGER_SECRET);
      if (!content?.certificate) {
        throw new OperationError(
          `Certificate ${ref.name} is Ready but Secret ${CERT_MANAGER_SECRET} holds no tls.crt`,
        );
      }
      ctx.served = servedOf(CERT_MANAGER_SECRET, content);
      setServedCertificate(ctx.objects, ctx.served);
      task.title = `cert-manager certificate for ${config.tls.hostname}: Ready`;
    },
  };
}

/**
 * After the load balancer has its address: without tls.hostname clients use the load balancer's name, so
 * a user's certificate must cover it (checked before the render already when the address was known).
 */
export function servedSecretCoverageStep(): ListrTask<DeployContext> {
  return {
    title: "The served certificate covers the load balancer's address",
    skip: (ctx) => {
      if (ctx.config.tls.mode !== "secret") return `tls.mode ${ctx.config.tls.mode}`;
      return ctx.config.tls.hostname ? `clients use ${ctx.config.tls.hostname}` : false;
    },
    task: async (ctx, task) => {
      const host = ctx.address ? hostOf(ctx.address) : undefined;
      const name = servedSecretName(ctx.config);
      const content = await readSecretContent(ctx.kube, ctx.config.namespace, name);
      const problems = await servedSecretProblems(
        content,
        `${ctx.config.namespace}/${name}`,
        host ? [host] : [],
        new Date(),
      );
      if (problems.length > 0) {
        throw new OperationError(
          "The registry serves a certificate clients cannot use at the load balancer's address.",
          {
            details: problems,
            hint: "Give --hostname NAME (a name the certificate covers, with a DNS record to the load balancer), or replace the Secret's certificate with one that covers the address.",
          },
        );
      }
      task.title = `The served certificate covers ${host}`;
    },
  };
}

/** The served certificate as the deploy report shows it (the private-ca fields that do not apply are false). */
export async function servedCertificateSummary(
  served: ServedSecret,
): Promise<{ names: string[]; notAfter: string; caCreated: boolean; secret: string } | undefined> {
  const facts = await readCertificate(served.certificate);
  if (!facts) return undefined;
  return {
    names: [...facts.dns, ...facts.ips],
    notAfter: facts.notAfter.toISOString(),
    caCreated: false,
    secret: served.secretName,
  };
}
