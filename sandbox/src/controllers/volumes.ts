/**
 * The persistent-volume controller and the CSI provisioners: a claim binds to the volume it names
 * (spec.volumeName) or to the smallest Available one that fits (class, access modes, capacity,
 * selector); without one, the class's provisioner creates it — EBS in the zone of the node the
 * scheduler picked (WaitForFirstConsumer), EFS access points when the class names a file system.
 * Volumes go Available -> Bound -> Released; a Released volume with reclaimPolicy Delete is deleted,
 * one with Retain stays. Claims and bound volumes carry the protection finalizers.
 */

import { selectorMatches } from "../selectors.js";
import type { KubeObject, WatchEvent } from "../types.js";
import { isPodTerminal, parseQuantity } from "./predicates.js";
import {
  type ControllerContext,
  deleteQuietly,
  keyOf,
  patchObject,
  patchStatus,
  splitKey,
  WorkQueue,
} from "./runtime.js";

const SOURCE = "persistentvolume-controller";
const PVC_PROTECTION = "kubernetes.io/pvc-protection";
const PV_PROTECTION = "kubernetes.io/pv-protection";
const SELECTED_NODE = "volume.kubernetes.io/selected-node";

function requested(claim: KubeObject): number {
  return parseQuantity(claim.spec?.resources?.requests?.storage ?? "0");
}

function capacity(pv: KubeObject): number {
  return parseQuantity(pv.spec?.capacity?.storage ?? "0");
}

function classOf(object: KubeObject): string {
  return object.spec?.storageClassName ?? "";
}

/** Why `pv` cannot serve `claim`, or undefined when it can. */
function mismatch(pv: KubeObject, claim: KubeObject): string | undefined {
  if (classOf(pv) !== classOf(claim)) return "storageClassName does not match";
  const modes: string[] = pv.spec?.accessModes ?? [];
  if (!(claim.spec?.accessModes ?? []).every((m: string) => modes.includes(m)))
    return "incompatible accessMode";
  if (capacity(pv) < requested(claim)) return "requested PV is too small";
  if ((pv.spec?.volumeMode ?? "Filesystem") !== (claim.spec?.volumeMode ?? "Filesystem"))
    return "incompatible volumeMode";
  return undefined;
}

function claimRefMatches(pv: KubeObject, claim: KubeObject): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return true;
  return (
    ref.name === claim.metadata.name &&
    ref.namespace === claim.metadata.namespace &&
    (!ref.uid || ref.uid === claim.metadata.uid)
  );
}

export function startVolumeController(ctx: ControllerContext): void {
  const { store } = ctx;
  const claims = new WorkQueue(ctx, "pvc-binder", syncClaim);
  const volumes = new WorkQueue(ctx, "pv-binder", syncVolume);

  function bind(pv: KubeObject, claim: KubeObject, chosenByController: boolean): void {
    const boundPv = patchObject(ctx, "PersistentVolume", undefined, pv.metadata.name, (next) => {
      next.spec.claimRef = {
        kind: "PersistentVolumeClaim",
        namespace: claim.metadata.namespace,
        name: claim.metadata.name,
        uid: claim.metadata.uid,
        apiVersion: "v1",
        resourceVersion: claim.metadata.resourceVersion,
      };
      if (chosenByController) {
        next.metadata.annotations = {
          ...next.metadata.annotations,
          "pv.kubernetes.io/bound-by-controller": "yes",
        };
      }
      if (!(next.metadata.finalizers ?? []).includes(PV_PROTECTION))
        next.metadata.finalizers = [...(next.metadata.finalizers ?? []), PV_PROTECTION];
    });
    if (boundPv === undefined) return;
    patchStatus(ctx, "PersistentVolume", undefined, pv.metadata.name, (next) => {
      next.status = { ...next.status, phase: "Bound" };
    });
    const boundClaim = patchObject(
      ctx,
      "PersistentVolumeClaim",
      claim.metadata.namespace,
      claim.metadata.name,
      (next) => {
        next.spec.volumeName = pv.metadata.name;
        next.metadata.annotations = {
          ...next.metadata.annotations,
          "pv.kubernetes.io/bind-completed": "yes",
          ...(chosenByController ? { "pv.kubernetes.io/bound-by-controller": "yes" } : {}),
        };
      },
    );
    if (boundClaim === undefined) return;
    patchStatus(ctx, "PersistentVolumeClaim", claim.metadata.namespace, claim.metadata.name, (next) => {
      next.status = {
        ...next.status,
        phase: "Bound",
        accessModes: boundPv.spec.accessModes,
        capacity: boundPv.spec.capacity,
      };
    });
  }

  function syncClaim(key: string): void {
    const { namespace, name } = splitKey(key);
    const claim = store.get("PersistentVolumeClaim", namespace, name);
    if (claim === undefined) return;
    if (claim.metadata.deletionTimestamp) {
      releaseProtection(claim);
      return;
    }
    if (!(claim.metadata.finalizers ?? []).includes(PVC_PROTECTION)) {
      patchObject(ctx, "PersistentVolumeClaim", namespace, name, (next) => {
        next.metadata.finalizers = [...(next.metadata.finalizers ?? []), PVC_PROTECTION];
      });
      return; // the update comes back as an event
    }
    if (claim.status?.phase === "Bound") {
      const pv = store.get("PersistentVolume", undefined, claim.spec?.volumeName ?? "");
      if (pv === undefined || !claimRefMatches(pv, claim)) {
        patchStatus(ctx, "PersistentVolumeClaim", namespace, name, (next) => {
          next.status = { ...next.status, phase: "Lost" };
        });
        ctx.events.warning(
          claim,
          "ClaimLost",
          "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
          SOURCE,
        );
      }
      return;
    }
    const wanted: string | undefined = claim.spec?.volumeName;
    if (wanted) {
      const pv = store.get("PersistentVolume", undefined, wanted);
      if (pv === undefined) return; // waits for the volume to appear
      if (!claimRefMatches(pv, claim)) {
        ctx.events.warning(
          claim,
          "FailedBinding",
          `volume "${wanted}" already bound to a different claim.`,
          SOURCE,
        );
        return;
      }
      const why = mismatch(pv, claim);
      if (why) {
        ctx.events.warning(
          claim,
          "FailedBinding",
          `Cannot bind to requested volume "${wanted}": ${why}`,
          SOURCE,
        );
        return;
      }
      bind(pv, claim, false);
      return;
    }
    const className = classOf(claim);
    const storageClass = className ? store.get("StorageClass", undefined, className) : undefined;
    const waitForConsumer = storageClass?.volumeBindingMode === "WaitForFirstConsumer";
    const selectedNode: string | undefined = claim.metadata.annotations?.[SELECTED_NODE];
    if (waitForConsumer && !selectedNode) {
      ctx.events.normal(
        claim,
        "WaitForFirstConsumer",
        "waiting for first consumer to be created before binding",
        SOURCE,
      );
      return;
    }
    const candidates = store
      .list("PersistentVolume")
      .filter((pv) => !pv.metadata.deletionTimestamp && (pv.status?.phase ?? "Available") === "Available")
      .filter((pv) => (pv.spec?.claimRef ? claimRefMatches(pv, claim) : true))
      .filter((pv) => mismatch(pv, claim) === undefined)
      .filter((pv) => !claim.spec?.selector || selectorMatches(claim.spec.selector, pv.metadata.labels))
      .sort(
        (a, b) =>
          Number(Boolean(b.spec?.claimRef)) - Number(Boolean(a.spec?.claimRef)) || capacity(a) - capacity(b),
      );
    const match = candidates[0];
    if (match) {
      bind(match, claim, true);
      return;
    }
    if (!storageClass) {
      if (!className)
        ctx.events.normal(
          claim,
          "FailedBinding",
          "no persistent volumes available for this claim and no storage class is set",
          SOURCE,
        );
      return;
    }
    provision(claim, storageClass, selectedNode);
  }

  function provision(claim: KubeObject, storageClass: KubeObject, selectedNode: string | undefined): void {
    const provisioner: string = storageClass.provisioner;
    const claimId = `${claim.metadata.namespace}/${claim.metadata.name}`;
    const source = { component: `${provisioner}_sandbox-provisioner` };
    const failed = (why: string) =>
      ctx.events.warning(
        claim,
        "ProvisioningFailed",
        `failed to provision volume with StorageClass "${storageClass.metadata.name}": ${why}`,
        source,
      );
    let csi: Record<string, unknown>;
    let nodeAffinity: unknown;
    const dataSource = claim.spec?.dataSourceRef ?? claim.spec?.dataSource;
    if (dataSource?.kind === "VolumeSnapshot") {
      const snapshot = store.get("VolumeSnapshot", claim.metadata.namespace, dataSource.name);
      if (!snapshot?.status?.readyToUse) {
        failed(
          `error getting handle for DataSource Type VolumeSnapshot by Name ${dataSource.name}: snapshot ${dataSource.name} is not Ready`,
        );
        return;
      }
    }
    if (provisioner === "ebs.csi.aws.com") {
      const node = selectedNode ? store.get("Node", undefined, selectedNode) : store.list("Node")[0];
      const zone = node?.metadata.labels?.["topology.kubernetes.io/zone"];
      if (!zone) {
        failed("no topology key found for the selected node");
        return;
      }
      csi = {
        driver: provisioner,
        fsType: storageClass.parameters?.["csi.storage.k8s.io/fstype"] ?? "ext4",
        volumeHandle: `vol-0${ctx.names.hex(16)}`,
        volumeAttributes: {
          "storage.kubernetes.io/csiProvisionerIdentity": "1700000000000-8081-ebs.csi.aws.com",
        },
      };
      nodeAffinity = {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: [zone] }] },
          ],
        },
      };
    } else if (provisioner === "efs.csi.aws.com") {
      const fileSystem = storageClass.parameters?.fileSystemId;
      if (storageClass.parameters?.provisioningMode !== "efs-ap" || !fileSystem) {
        failed("rpc error: code = InvalidArgument desc = Missing provisioningMode parameter");
        return;
      }
      csi = { driver: provisioner, volumeHandle: `${fileSystem}::fsap-0${ctx.names.hex(16)}` };
    } else {
      ctx.events.normal(
        claim,
        "ExternalProvisioning",
        `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
        SOURCE,
      );
      return;
    }
    ctx.events.normal(
      claim,
      "Provisioning",
      `External provisioner is provisioning volume for claim "${claimId}"`,
      source,
    );
    const bytes = requested(claim);
    // EBS sizes volumes in whole GiB.
    const size =
      provisioner === "ebs.csi.aws.com"
        ? `${Math.max(1, Math.ceil(bytes / 2 ** 30))}Gi`
        : claim.spec?.resources?.requests?.storage;
    const pvName = `pvc-${claim.metadata.uid}`;
    if (store.get("PersistentVolume", undefined, pvName) === undefined) {
      store.create({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: {
          name: pvName,
          annotations: {
            "pv.kubernetes.io/provisioned-by": provisioner,
            "volume.kubernetes.io/provisioner-deletion-secret-name": "",
            "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
          },
          finalizers: [PV_PROTECTION, "external-provisioner.volume.kubernetes.io/finalizer"],
        },
        spec: {
          accessModes: claim.spec?.accessModes,
          capacity: { storage: size },
          csi,
          ...(nodeAffinity ? { nodeAffinity } : {}),
          persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? "Delete",
          storageClassName: storageClass.metadata.name,
          volumeMode: claim.spec?.volumeMode ?? "Filesystem",
          claimRef: {
            kind: "PersistentVolumeClaim",
            namespace: claim.metadata.namespace,
            name: claim.metadata.name,
            uid: claim.metadata.uid,
            apiVersion: "v1",
          },
        },
      });
    }
    ctx.events.normal(claim, "ProvisioningSucceeded", `Successfully provisioned volume ${pvName}`, source);
    const pv = store.get("PersistentVolume", undefined, pvName);
    if (pv) bind(pv, claim, true);
  }

  /** pvc-protection: a claim being deleted goes only when no running pod uses it. */
  function releaseProtection(claim: KubeObject): void {
    if (!(claim.metadata.finalizers ?? []).includes(PVC_PROTECTION)) return;
    const inUse = store
      .list("Pod", { namespace: claim.metadata.namespace })
      .some(
        (pod) =>
          !isPodTerminal(pod) &&
          (pod.spec?.volumes ?? []).some(
            (v: { persistentVolumeClaim?: { claimName?: string } }) =>
              v.persistentVolumeClaim?.claimName === claim.metadata.name,
          ),
      );
    if (inUse) return;
    patchObject(ctx, "PersistentVolumeClaim", claim.metadata.namespace, claim.metadata.name, (next) => {
      next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f: string) => f !== PVC_PROTECTION);
    });
  }

  function syncVolume(name: string): void {
    const pv = store.get("PersistentVolume", undefined, name);
    if (pv === undefined) return;
    const ref = pv.spec?.claimRef;
    const claim = ref ? store.get("PersistentVolumeClaim", ref.namespace, ref.name) : undefined;
    const claimGone = ref?.uid && (claim === undefined || claim.metadata.uid !== ref.uid);
    if (pv.metadata.deletionTimestamp) {
      // pv-protection and the provisioner's finalizer: released when nothing is bound any more.
      if (!ref || claimGone) {
        patchObject(ctx, "PersistentVolume", undefined, name, (next) => {
          next.metadata.finalizers = (next.metadata.finalizers ?? []).filter(
            (f: string) => f !== PV_PROTECTION && f !== "external-provisioner.volume.kubernetes.io/finalizer",
          );
        });
      }
      return;
    }
    let phase: string;
    if (!ref || (!ref.uid && claim?.spec?.volumeName !== name)) phase = "Available";
    else if (claimGone) phase = "Released";
    else phase = claim?.spec?.volumeName === name ? "Bound" : (pv.status?.phase ?? "Available");
    if (phase === "Released" && (pv.spec?.persistentVolumeReclaimPolicy ?? "Retain") === "Delete") {
      deleteQuietly(ctx, "PersistentVolume", undefined, name);
      return;
    }
    patchStatus(ctx, "PersistentVolume", undefined, name, (next) => {
      next.status = { ...next.status, phase };
    });
  }

  const onClaim = (event: WatchEvent) => {
    if (event.type !== "DELETED") claims.add(keyOf(event.object));
    const volumeName = event.object.spec?.volumeName;
    if (volumeName) volumes.add(volumeName);
    for (const pv of store.list("PersistentVolume"))
      if (pv.spec?.claimRef?.name === event.object.metadata.name) volumes.add(pv.metadata.name);
  };
  const onVolume = (event: WatchEvent) => {
    if (event.type !== "DELETED") volumes.add(event.object.metadata.name);
    for (const claim of store.list("PersistentVolumeClaim"))
      if (claim.status?.phase !== "Bound") claims.add(keyOf(claim));
  };
  const onPod = (event: WatchEvent) => {
    // A claim waiting to be deleted may be free now.
    for (const claim of store.list("PersistentVolumeClaim", { namespace: event.object.metadata.namespace })) {
      if (claim.metadata.deletionTimestamp) claims.add(keyOf(claim));
    }
  };
  const onSnapshot = () => {
    for (const claim of store.list("PersistentVolumeClaim"))
      if (claim.status?.phase !== "Bound") claims.add(keyOf(claim));
  };
  ctx.cleanups.push(
    store.subscribe("PersistentVolumeClaim", onClaim),
    store.subscribe("PersistentVolume", onVolume),
    store.subscribe("Pod", onPod),
    store.subscribe("VolumeSnapshot", onSnapshot),
  );
  for (const claim of store.list("PersistentVolumeClaim")) claims.add(keyOf(claim));
  for (const pv of store.list("PersistentVolume")) volumes.add(pv.metadata.name);
}
