/**
 * What a restore needs to know before it asks anything: the registry's Deployment (and how many replicas
 * to bring back), the claims, and whether the objects the restore Job depends on (its ServiceAccount and
 * the scripts ConfigMap, both applied by `deploy` with a bucket) are there. Reads only.
 */
import type { V1Deployment, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { backupNames } from "../../core/backup/render.js";
import { replicasToRestore } from "../../core/backup/restore-plan.js";
import { names } from "../../core/render/names.js";
import { UsageError } from "../../errors.js";

export interface RestoreLookup {
  deployment?: V1Deployment;
  replicas: number;
  liveClaim?: V1PersistentVolumeClaim;
  /** The --to-claim claim, when it exists. */
  targetClaim?: V1PersistentVolumeClaim;
}

export async function lookUpRestore(
  kube: Kube,
  namespace: string,
  options: { configuredReplicas: number; toClaim?: string; clusterLabel: string },
): Promise<RestoreLookup> {
  const [deployment, liveClaim, targetClaim, account, scripts] = await Promise.all([
    kube.get(named(Kinds.Deployment, names.deployment, namespace)),
    kube.get(named(Kinds.PersistentVolumeClaim, backupNames.claim, namespace)),
    options.toClaim ? kube.get(named(Kinds.PersistentVolumeClaim, options.toClaim, namespace)) : undefined,
    kube.get(named(Kinds.ServiceAccount, backupNames.serviceAccount, namespace)),
    kube.get(named(Kinds.ConfigMap, backupNames.scriptsConfigMap, namespace)),
  ]);
  const missing = [
    ...(account ? [] : [`ServiceAccount ${backupNames.serviceAccount}`]),
    ...(scripts ? [] : [`ConfigMap ${backupNames.scriptsConfigMap}`]),
  ];
  if (missing.length > 0) {
    throw new UsageError(
      `The restore Job needs ${missing.join(" and ")} in namespace ${namespace} (${options.clusterLabel}); nothing was changed`,
      {
        hint: "Run clouddrove deploy with backup.bucket set (--backup-bucket): it applies them. Or restore by hand (docs/backup.md).",
      },
    );
  }
  if (!options.toClaim && !liveClaim) {
    throw new UsageError(`There is no claim ${backupNames.claim} in namespace ${namespace} to restore into`, {
      hint: "Deploy the registry first (clouddrove deploy), or restore into another claim with --to-claim NAME.",
    });
  }
  return {
    deployment,
    replicas: replicasToRestore(deployment, options.configuredReplicas),
    liveClaim,
    targetClaim,
  };
}
