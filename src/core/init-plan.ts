/**
 * Which questions `init` asks, in order, given what is already known. Pure: the command asks them.
 * A question is skipped when its setting was supplied explicitly (flag, env, --set, file).
 */
import type { Source } from "../config/resolve.js";
import type { Config } from "../config/schema.js";
import { tlsRequiredSettings } from "./tls-settings.js";

export interface InitQuestion {
  key: string;
  /** Empty answer allowed (the setting stays unset / empty). */
  optional: boolean;
  /** The question, where it says more than the setting's own (what an empty answer means here). */
  message?: string;
}

/** The keys `init` must end up with; without a terminal, these missing is exit 2. */
export function initRequiredKeys(config: Config): string[] {
  const keys = ["cluster.region"];
  if (config.storage.type === "nfs") keys.push("storage.nfs.server");
  // With backup.setup create, cluster create makes the role and records its ARN.
  if (config.backup.setup === "manual" && config.backup.bucket && config.backup.credentials === "irsa")
    keys.push("backup.roleArn");
  keys.push(...tlsRequiredSettings(config).filter((key) => !keys.includes(key)));
  return keys;
}

const EXPLICIT: ReadonlySet<Source> = new Set(["flag", "env", "set", "file", "prompt"]);

/**
 * The next question, or undefined when done. Called again after each answer because later questions
 * depend on earlier answers (storage type -> EFS id or NFS server; bucket -> credentials).
 */
export function nextInitQuestion(
  config: Config,
  sources: ReadonlyMap<string, Source>,
  asked: ReadonlySet<string>,
): InitQuestion | undefined {
  const candidates: InitQuestion[] = [
    { key: "cluster.region", optional: false },
    { key: "cluster.name", optional: false },
    { key: "storage.type", optional: false },
  ];
  if (config.storage.type === "efs") candidates.push({ key: "storage.efs.fileSystemId", optional: true });
  if (config.storage.type === "nfs") {
    candidates.push(
      { key: "storage.nfs.server", optional: false },
      { key: "storage.nfs.path", optional: false },
    );
  }
  candidates.push({ key: "network.allowedCidrs", optional: true }, { key: "tls.mode", optional: false });
  candidates.push(...tlsQuestions(config));
  candidates.push({ key: "backup.setup", optional: false });
  if (config.backup.setup === "create") {
    // The bucket and the role are made by cluster create; only the name is the user's to choose.
    candidates.push({
      key: "backup.bucket",
      optional: true,
      message:
        "S3 bucket for backups: a new name, or one of this account's buckets to use (Enter: cluster create names it clouddrove-backup-ACCOUNT-REGION-CLUSTER)",
    });
    return candidates.find((q) => !asked.has(q.key) && !EXPLICIT.has(sources.get(q.key) ?? "default"));
  }
  candidates.push({ key: "backup.bucket", optional: true });
  if (config.backup.bucket) {
    candidates.push({ key: "backup.credentials", optional: false });
    if (config.backup.credentials === "irsa") candidates.push({ key: "backup.roleArn", optional: false });
  }
  return candidates.find((q) => !asked.has(q.key) && !EXPLICIT.has(sources.get(q.key) ?? "default"));
}

/** What init writes: every explicitly chosen value, plus the few keys a reader expects to see. */
export function keysToWrite(sources: ReadonlyMap<string, Source>): string[] {
  const always = ["cluster.name", "cluster.region", "storage.type"];
  return [...sources.entries()]
    .filter(([key, source]) => source !== "default" || always.includes(key))
    .map(([key]) => key);
}

/** The TLS mode's own questions (docs/tls.md), asked after the mode. */
function tlsQuestions(config: Config): InitQuestion[] {
  const { tls } = config;
  // A name of the user's own goes into the server certificate; the load balancer's is added by deploy.
  if (tls.mode === "private-ca") return [{ key: "tls.hostname", optional: true }];
  if (tls.mode === "acm") {
    return [
      { key: "tls.hostname", optional: false },
      { key: "tls.certificateArn", optional: false },
      { key: "tls.hostedZoneId", optional: true },
    ];
  }
  if (tls.mode !== "secret") return [];
  // Either the user's Secret or an issuer: the Secret is asked first, the issuer only when it is skipped,
  // and then after the host name, which an issuer's Certificate cannot do without.
  if (tls.secretName) return [{ key: "tls.hostname", optional: true }];
  const questions: InitQuestion[] = [];
  if (!tls.certManagerIssuer) questions.push({ key: "tls.secretName", optional: true });
  questions.push({ key: "tls.hostname", optional: false }, { key: "tls.certManagerIssuer", optional: false });
  return questions;
}
