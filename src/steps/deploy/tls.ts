/**
 * The registry's TLS during deploy: reading the CA and server certificate back from the cluster before
 * anything is rendered, and the step that makes sure the served certificate names the load balancer once
 * its address is known (on a first deploy, or after the load balancer was replaced), before the rollout
 * is waited for.
 */
import type { V1Secret } from "@kubernetes/client-node";
import type { ListrTask } from "listr2";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { names, renderManifests } from "../../core/render/index.js";
import type { KeyPairPem } from "../../core/tls/certificates.js";
import { readCertificate } from "../../core/tls/certificates.js";
import { hostOf } from "../../core/tls/plan.js";
import { type LiveTls, prepareServerTls } from "../../core/tls/prepare.js";
import { applyLate, servesCertificate } from "./apply.js";
import type { DeployContext } from "./context.js";

/** Undefined where the Secret does not exist (a first deploy). */
type Secret = V1Secret | undefined;

const decode = (secret: Secret, key: string): string => {
  const value = secret?.data?.[key];
  return typeof value === "string" ? Buffer.from(value, "base64").toString("utf8") : "";
};

function pairOf(secret: Secret, certificateKey: string, keyKey: string): KeyPairPem | undefined {
  if (!secret) return undefined;
  return { certificate: decode(secret, certificateKey), key: decode(secret, keyKey) };
}

/** The CA and the server certificate as the cluster holds them (keys stay in memory only). */
export async function readLiveTls(kube: Kube, namespace: string): Promise<LiveTls> {
  const [ca, server] = await Promise.all([
    kube.get(named(Kinds.Secret, names.caSecret, namespace)),
    kube.get(named(Kinds.Secret, names.tlsSecret, namespace)),
  ]);
  const keys = names.secretKeys;
  return {
    ca: pairOf(ca, keys.caCertificate, keys.caKey),
    server: pairOf(server, keys.tlsCertificate, keys.tlsKey),
  };
}

/** What the step title and the report say about the served certificate. */
export async function describeCertificate(certificate: string): Promise<string> {
  const facts = await readCertificate(certificate);
  if (!facts) return "unreadable";
  return `for ${[...facts.dns, ...facts.ips].join(", ")}, valid until ${facts.notAfter.toISOString().slice(0, 10)}`;
}

export function serverCertificateStep(): ListrTask<DeployContext> {
  return {
    title: "Server certificate for the load balancer's address",
    skip: (ctx) =>
      ctx.tls
        ? false
        : ctx.config.tls.mode === "secret"
          ? "tls.mode secret: the registry serves the Secret's certificate"
          : `tls.mode ${ctx.config.tls.mode}: the registry serves no certificate`,
    task: async (ctx, task) => {
      const state = ctx.tls as NonNullable<DeployContext["tls"]>;
      const host = ctx.address ? hostOf(ctx.address) : undefined;
      const again = await prepareServerTls(ctx.config, { ...state.prepared.tls }, host, new Date());
      if (!again.issued && !ctx.certificatePending) {
        task.title = `Server certificate ${await describeCertificate(state.prepared.tls.server.certificate)}`;
        return;
      }
      // The load balancer's address is new to the certificate (a first deploy, or a replaced load
      // balancer): the certificate names it now. On a first deploy the Secret and the Deployment were held
      // back for it, so the pods start once, with this certificate; later, the pods roll to serve it.
      if (again.issued) state.prepared = { ...state.prepared, tls: again.tls, issued: again.issued };
      const rendered = await renderManifests(ctx.config, ctx.credentials, state.prepared.tls);
      for (const object of rendered.filter(servesCertificate)) await applyLate(ctx, object);
      ctx.certificatePending = false;
      const facts = await describeCertificate(state.prepared.tls.server.certificate);
      task.title = `Server certificate ${again.issued ? "issued" : "applied"} ${facts}`;
    },
  };
}
