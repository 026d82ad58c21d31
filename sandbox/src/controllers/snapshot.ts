/**
 * The snapshot controller with the CSI drivers' snapshotters: a VolumeSnapshot of a claim on an EBS
 * volume gets its content and becomes readyToUse after a short while; one of an EFS volume never does
 * (the EFS driver does not implement CreateSnapshot), with status.error and a warning event saying so.
 */
import type { KubeObject, WatchEvent } from "../types.js";
import { type ControllerContext, keyOf, patchStatus, splitKey, timestamp, WorkQueue } from "./runtime.js";

const SNAPSHOT_MS = 10_000;
const SOURCE = "snapshot-controller";
/** Drivers that advertise CREATE_DELETE_SNAPSHOT. */
const SNAPSHOT_DRIVERS = new Set(["ebs.csi.aws.com"]);

function defaultClass(classes: KubeObject[], driver: string): KubeObject | undefined {
  return classes.find(
    (c) =>
      c.driver === driver &&
      c.metadata.annotations?.["snapshot.storage.kubernetes.io/is-default-class"] === "true",
  );
}

export function startSnapshotController(ctx: ControllerContext): void {
  const { store, clock } = ctx;
  const queue = new WorkQueue(ctx, "snapshot", sync);

  function fail(snapshot: KubeObject, message: string): void {
    const updated = patchStatus(
      ctx,
      "VolumeSnapshot",
      snapshot.metadata.namespace,
      snapshot.metadata.name,
      (next) => {
        if (next.status?.error?.message === message) return;
        next.status = { ...next.status, readyToUse: false, error: { message, time: timestamp(clock.now()) } };
      },
    );
    if (updated) ctx.events.warning(updated, "SnapshotCreationFailed", message, SOURCE);
  }

  function sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const snapshot = store.get("VolumeSnapshot", namespace, name);
    if (snapshot === undefined || snapshot.metadata.deletionTimestamp || snapshot.status?.readyToUse) return;
    const now = clock.now();
    if (snapshot.spec?.source?.volumeSnapshotContentName) {
      // Pre-provisioned: the content exists already.
      patchStatus(ctx, "VolumeSnapshot", namespace, name, (next) => {
        next.status = {
          ...next.status,
          boundVolumeSnapshotContentName: snapshot.spec.source.volumeSnapshotContentName,
          readyToUse: true,
          creationTime: next.status?.creationTime ?? timestamp(now),
        };
      });
      return;
    }
    const claimName: string | undefined = snapshot.spec?.source?.persistentVolumeClaimName;
    const claim = claimName ? store.get("PersistentVolumeClaim", namespace, claimName) : undefined;
    if (claim === undefined) {
      fail(
        snapshot,
        `Failed to create snapshot content with error snapshot controller failed to get PVC: persistentvolumeclaim "${claimName}" not found`,
      );
      return;
    }
    if (claim.status?.phase !== "Bound") return; // waits for the claim to bind
    const pv = store.get("PersistentVolume", undefined, claim.spec?.volumeName ?? "");
    const driver: string | undefined = pv?.spec?.csi?.driver;
    const handle: string = pv?.spec?.csi?.volumeHandle ?? pv?.metadata.name ?? "";
    if (driver === undefined) {
      fail(
        snapshot,
        `Failed to create snapshot content with error the PersistentVolume ${pv?.metadata.name} of claim ${claimName} is not a CSI volume`,
      );
      return;
    }
    const classes = store.list("VolumeSnapshotClass");
    const className: string | undefined = snapshot.spec?.volumeSnapshotClassName;
    const snapshotClass = className
      ? classes.find((c) => c.metadata.name === className)
      : defaultClass(classes, driver);
    if (!SNAPSHOT_DRIVERS.has(driver)) {
      fail(
        snapshot,
        `Failed to check and update snapshot content: failed to take snapshot of the volume ${handle}: "rpc error: code = Unimplemented desc = CreateSnapshot: the CSI driver ${driver} does not support snapshots"`,
      );
      return;
    }
    if (snapshotClass === undefined) {
      fail(
        snapshot,
        className
          ? `Failed to get snapshot class with error volumesnapshotclass.snapshot.storage.k8s.io "${className}" not found`
          : "Failed to set default snapshot class with error cannot find default snapshot class",
      );
      return;
    }
    if (snapshotClass.driver !== driver) {
      fail(
        snapshot,
        `Failed to create snapshot content with error VolumeSnapshotClass "${snapshotClass.metadata.name}" is for driver ${snapshotClass.driver}, the volume's driver is ${driver}`,
      );
      return;
    }
    const contentName = `snapcontent-${snapshot.metadata.uid}`;
    if (!snapshot.status?.boundVolumeSnapshotContentName) {
      patchStatus(ctx, "VolumeSnapshot", namespace, name, (next) => {
        next.status = {
          boundVolumeSnapshotContentName: contentName,
          creationTime: timestamp(now),
          readyToUse: false,
          restoreSize: claim.status?.capacity?.storage ?? claim.spec?.resources?.requests?.storage,
        };
      });
      ctx.events.normal(
        snapshot,
        "CreatingSnapshot",
        `Waiting for a snapshot ${namespace}/${name} to be created by the CSI driver.`,
        SOURCE,
      );
      queue.addAfter(key, SNAPSHOT_MS);
      return;
    }
    const created = Date.parse(snapshot.status.creationTime ?? "") || now;
    if (created + SNAPSHOT_MS > now) {
      queue.addAfter(key, created + SNAPSHOT_MS - now);
      return;
    }
    const ready = patchStatus(ctx, "VolumeSnapshot", namespace, name, (next) => {
      next.status = { ...next.status, readyToUse: true };
    });
    if (ready) {
      ctx.events.normal(
        ready,
        "SnapshotCreated",
        `Snapshot ${namespace}/${name} was successfully created by the CSI driver.`,
        SOURCE,
      );
      ctx.events.normal(ready, "SnapshotReady", `Snapshot ${namespace}/${name} is ready to use.`, SOURCE);
    }
  }

  const onSnapshot = (event: WatchEvent) => {
    if (event.type !== "DELETED") queue.add(keyOf(event.object));
  };
  const onClaim = (event: WatchEvent) => {
    for (const snapshot of store.list("VolumeSnapshot", { namespace: event.object.metadata.namespace })) {
      if (!snapshot.status?.readyToUse) queue.add(keyOf(snapshot));
    }
  };
  ctx.cleanups.push(
    store.subscribe("VolumeSnapshot", onSnapshot),
    store.subscribe("PersistentVolumeClaim", onClaim),
  );
  for (const snapshot of store.list("VolumeSnapshot")) queue.add(keyOf(snapshot));
}
