/**
 * What `clouddrove gc` reads before it asks anything: the registry's ConfigMap and Deployment, the
 * garbage-collect flags, whether an earlier run left the registry read-only, and gc Jobs still running;
 * and, for `status`, the warning while the registry is read-only.
 */
import type { V1ConfigMap, V1Deployment } from "@kubernetes/client-node";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { type GcFlags, parseGcFlags } from "../../core/gc/flags.js";
import { readOnlyState } from "../../core/gc/read-only.js";
import { readOnlyWarning } from "../../core/gc/report.js";
import { type LeaseObject, LOCK_LEASE_NAME, lockState } from "../../core/lock/lease.js";
import { names } from "../../core/render/names.js";
import { UsageError } from "../../errors.js";
import { runningGcJobs } from "./run-job.js";

export interface GcLookUp {
  configMap: V1ConfigMap;
  deployment: V1Deployment;
  flags: GcFlags;
  replicas: number;
  image: string;
  /** The registry is read-only from an earlier garbage collection (or for another reason). */
  readOnly: { reason: string | undefined; since: string | undefined } | undefined;
  runningJobs: string[];
}

/** Garbage collection keeps two replicas serving while one rolls: fewer than three cannot. */
export const MINIMUM_REPLICAS = 3;

/** `rolls`: the run switches the replicas (not a dry run), which needs MINIMUM_REPLICAS. */
export async function lookUpGc(kube: Kube, namespace: string, rolls: boolean): Promise<GcLookUp> {
  const [configMap, deployment] = await Promise.all([
    kube.get(named(Kinds.ConfigMap, names.configMap, namespace)),
    kube.get(named(Kinds.Deployment, names.deployment, namespace)),
  ]);
  if (!configMap || !deployment) {
    throw new UsageError(
      `There is no registry in namespace ${namespace} (no ${names.deployment} and its ConfigMap).`,
      {
        hint: "Deploy it first (clouddrove deploy), or name its namespace with --namespace.",
      },
    );
  }
  const replicas = deployment.spec?.replicas ?? 1;
  if (rolls && replicas < MINIMUM_REPLICAS) {
    throw new UsageError(
      `The registry runs ${replicas} replica(s); garbage collection rolls them one at a time and keeps at least two serving, which needs ${MINIMUM_REPLICAS}. Nothing was changed.`,
      {
        hint: `Set registry.replicas to ${MINIMUM_REPLICAS} or more (--replicas) and run clouddrove deploy first.`,
      },
    );
  }
  const image =
    deployment.spec?.template?.spec?.containers?.find((c) => c.name === names.container)?.image ?? "";
  return {
    configMap,
    deployment,
    flags: parseGcFlags(configMap.data?.[names.configMapKeys.garbageCollectFlags]),
    replicas,
    image,
    readOnly: await readOnlyState(configMap),
    runningJobs: await runningGcJobs({ kube, namespace }),
  };
}

/** `status`'s warning while the registry is read-only; none while it is writable. */
export async function readOnlyWarnings(kube: Kube, namespace: string): Promise<string[]> {
  const configMap = await kube.get(named(Kinds.ConfigMap, names.configMap, namespace));
  const state = await readOnlyState(configMap);
  if (!state) return [];
  const lease = (await kube.get(named(Kinds.Lease, LOCK_LEASE_NAME, namespace))) as LeaseObject | undefined;
  const lock = lockState(lease, new Date());
  return [readOnlyWarning(state, lock.kind === "held" ? lock.holder : undefined)];
}
