/**
 * What stands between a bound pod and its volumes: a claim that is missing or not bound yet, or a
 * ReadWriteOnce volume of an attachable driver (EBS) that is still attached to another node, which the
 * attach/detach controller refuses with its Multi-Attach error. EFS (attachRequired: false) and
 * ReadWriteMany volumes mount anywhere.
 */

import type { KubeObject } from "../types.js";
import { isPodTerminal } from "./predicates.js";
import type { ControllerContext } from "./runtime.js";

export type VolumeCheck = { ok: true } | { ok: false; report(pod: KubeObject): void };

/** Its volumes are attached: the kubelet says so (status), or has just attached them (`attached`). */
function holdsVolume(pod: KubeObject, attached: (pod: KubeObject) => boolean): boolean {
  if (isPodTerminal(pod)) return false;
  return (
    attached(pod) ||
    (pod.status?.conditions ?? []).some(
      (c: { type: string; status: string }) => c.type === "PodReadyToStartContainers" && c.status === "True",
    )
  );
}

export function isAttachable(ctx: ControllerContext, pv: KubeObject): boolean {
  if (pv.spec?.awsElasticBlockStore) return true;
  const driver: string | undefined = pv.spec?.csi?.driver;
  if (!driver) return false; // nfs, hostPath, local: nothing to attach
  const csiDriver = ctx.store.get("CSIDriver", undefined, driver);
  return csiDriver?.spec?.attachRequired !== false;
}

export function checkPodVolumes(
  ctx: ControllerContext,
  pod: KubeObject,
  attached: (pod: KubeObject) => boolean = () => false,
): VolumeCheck {
  const namespace = pod.metadata.namespace ?? "default";
  const source = { component: "kubelet", host: pod.spec?.nodeName };
  for (const volume of pod.spec?.volumes ?? []) {
    const claimName: string | undefined = volume.persistentVolumeClaim?.claimName;
    if (!claimName) continue;
    const claim = ctx.store.get("PersistentVolumeClaim", namespace, claimName);
    const unmounted = `Unable to attach or mount volumes: unmounted volumes=[${volume.name}], unattached volumes=[${volume.name}]`;
    if (claim === undefined) {
      return {
        ok: false,
        report: (p) =>
          ctx.events.warning(
            p,
            "FailedMount",
            `${unmounted}: error processing PVC ${namespace}/${claimName}: persistentvolumeclaim "${claimName}" not found`,
            source,
          ),
      };
    }
    const pvName: string | undefined = claim.spec?.volumeName;
    const pv = pvName ? ctx.store.get("PersistentVolume", undefined, pvName) : undefined;
    if (claim.status?.phase !== "Bound" || pv === undefined) {
      return {
        ok: false,
        report: (p) =>
          ctx.events.warning(
            p,
            "FailedMount",
            `${unmounted}: error processing PVC ${namespace}/${claimName}: PVC is not bound`,
            source,
          ),
      };
    }
    const modes: string[] = pv.spec?.accessModes ?? [];
    const shareable = modes.includes("ReadWriteMany") || modes.includes("ReadOnlyMany");
    if (shareable || !isAttachable(ctx, pv)) continue;
    const elsewhere = ctx.store
      .list("Pod", { namespace })
      .filter(
        (other) =>
          other.metadata.uid !== pod.metadata.uid &&
          other.spec?.nodeName &&
          other.spec.nodeName !== pod.spec?.nodeName &&
          holdsVolume(other, attached) &&
          (other.spec?.volumes ?? []).some(
            (v: { persistentVolumeClaim?: { claimName?: string } }) =>
              v.persistentVolumeClaim?.claimName === claimName,
          ),
      );
    if (elsewhere.length > 0) {
      const users = elsewhere.map((other) => other.metadata.name).join(", ");
      return {
        ok: false,
        report: (p) =>
          ctx.events.warning(
            p,
            "FailedAttachVolume",
            `Multi-Attach error for volume "${pv.metadata.name}" Volume is already used by pod(s) ${users}`,
            "attachdetach-controller",
          ),
      };
    }
  }
  return { ok: true };
}
