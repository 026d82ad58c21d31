/**
 * Storage on the simulated cluster: claims binding to named and matching volumes, EBS provisioning in
 * the consumer's zone, ReadWriteOnce Multi-Attach, EFS shared by every replica, volume phases and
 * reclaim policies, and VolumeSnapshots (ready for EBS, refused for EFS).
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/types.js";
import { registryDeployment } from "../support/registry-objects.js";
import { type SimulatedCluster, simulatedClusterPerTest } from "../support/simulated-cluster.js";

const startCluster = simulatedClusterPerTest({ seed: 3 });

function volume(
  name: string,
  driver: "ebs.csi.aws.com" | "efs.csi.aws.com",
  accessModes: string[],
  extra: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
      capacity: { storage: "50Gi" },
      accessModes,
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: driver === "efs.csi.aws.com" ? "efs-sc" : "",
      csi: {
        driver,
        volumeHandle: driver === "efs.csi.aws.com" ? "fs-0123456789abcdef0" : "vol-0123456789abcdef0",
      },
      ...extra,
    },
  };
}

function claim(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "registry" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } }, ...spec },
  };
}

function registry(claimName: string, replicas = 3): KubeObject {
  return registryDeployment({
    replicas,
    podSpec: { volumes: [{ name: "data", persistentVolumeClaim: { claimName } }] },
    container: { volumeMounts: [{ name: "data", mountPath: "/var/lib/registry" }] },
  });
}

const efsVolume = () => volume("registry-efs", "efs.csi.aws.com", ["ReadWriteMany"]);
/** Claim "data", bound by name to the EFS volume that every replica shares. */
const efsClaim = () =>
  claim("data", { accessModes: ["ReadWriteMany"], storageClassName: "efs-sc", volumeName: "registry-efs" });

const pods = (c: SimulatedCluster) => c.store.list("Pod", { namespace: "registry" });
const pvc = (c: SimulatedCluster, name: string) => c.store.get("PersistentVolumeClaim", "registry", name)!;
const pv = (c: SimulatedCluster, name: string) => c.store.get("PersistentVolume", undefined, name)!;
const events = (c: SimulatedCluster, name: string) =>
  c.store.list("Event", { namespace: "registry" }).filter((e) => e.involvedObject.name === name);

describe("claims and volumes", () => {
  it("binds a claim to the volume it names, and keeps a Retain volume Released when the claim goes", async () => {
    const c = startCluster();
    c.store.create(efsVolume());
    await c.clock.advance(1_000);
    expect(pv(c, "registry-efs").status.phase).toBe("Available");
    c.store.create(efsClaim());
    await c.clock.advance(1_000);
    expect(pvc(c, "data").status).toMatchObject({
      phase: "Bound",
      capacity: { storage: "50Gi" },
      accessModes: ["ReadWriteMany"],
    });
    expect(pv(c, "registry-efs").status.phase).toBe("Bound");
    expect(pv(c, "registry-efs").spec.claimRef).toMatchObject({
      name: "data",
      namespace: "registry",
      uid: pvc(c, "data").metadata.uid,
    });

    c.store.delete("PersistentVolumeClaim", "registry", "data");
    await c.clock.advance(1_000);
    expect(c.store.get("PersistentVolumeClaim", "registry", "data")).toBeUndefined();
    expect(pv(c, "registry-efs").status.phase).toBe("Released");
    expect(pv(c, "registry-efs").spec.claimRef.name).toBe("data");
  });

  it("refuses a named volume that is too small or has other access modes", async () => {
    const c = startCluster();
    c.store.create(volume("tiny", "ebs.csi.aws.com", ["ReadWriteOnce"], { capacity: { storage: "1Gi" } }));
    c.store.create(claim("data", { storageClassName: "", volumeName: "tiny" }));
    await c.clock.advance(1_000);
    expect(pvc(c, "data").status.phase).toBe("Pending");
    expect(events(c, "data").map((e) => e.message)).toContain(
      'Cannot bind to requested volume "tiny": requested PV is too small',
    );
  });

  it("shares an EFS ReadWriteMany volume among replicas on three nodes", async () => {
    const c = startCluster();
    c.store.create(efsVolume());
    c.store.create(efsClaim());
    c.store.create(registry("data"));
    await c.until(() => pods(c).length === 3 && pods(c).every((p) => p.status?.phase === "Running"));
    expect(new Set(pods(c).map((p) => p.spec.nodeName)).size).toBe(3);
  });

  it("leaves the second user of a ReadWriteOnce EBS volume ContainerCreating with a Multi-Attach error", async () => {
    const c = startCluster();
    c.store.create(volume("registry-ebs", "ebs.csi.aws.com", ["ReadWriteOnce"]));
    c.store.create(claim("data", { storageClassName: "", volumeName: "registry-ebs" }));
    c.store.create(registry("data", 2));
    await c.clock.advance(60_000);
    const running = pods(c).filter((p) => p.status?.phase === "Running");
    const stuck = pods(c).filter((p) => p.status?.phase === "Pending");
    expect(running).toHaveLength(1);
    expect(stuck).toHaveLength(1);
    const blocked = stuck[0]!;
    expect(blocked.spec.nodeName).toBeDefined();
    expect(blocked.status.containerStatuses[0].state).toEqual({ waiting: { reason: "ContainerCreating" } });
    expect(events(c, blocked.metadata.name)).toContainEqual(
      expect.objectContaining({
        type: "Warning",
        reason: "FailedAttachVolume",
        message: `Multi-Attach error for volume "registry-ebs" Volume is already used by pod(s) ${running[0]!.metadata.name}`,
      }),
    );
    // When the first user goes, the volume attaches to the waiting pod's node.
    c.store.delete("Pod", "registry", running[0]!.metadata.name);
    await c.until(
      () => c.store.get("Pod", "registry", blocked.metadata.name)?.status?.phase === "Running",
      120_000,
    );
  });

  it("provisions a gp3 (WaitForFirstConsumer) volume in the zone of the node the pod was scheduled to", async () => {
    const c = startCluster();
    c.store.create(claim("data", { storageClassName: "gp3" }));
    await c.clock.advance(1_000);
    expect(pvc(c, "data").status.phase).toBe("Pending");
    expect(events(c, "data").map((e) => e.reason)).toContain("WaitForFirstConsumer");
    c.store.create(registry("data", 1));
    await c.until(() => pods(c)[0]?.status?.phase === "Running", 60_000);
    const pod = pods(c)[0]!;
    const zone = c.store.get("Node", undefined, pod.spec.nodeName)!.metadata.labels![
      "topology.kubernetes.io/zone"
    ];
    const provisioned = pv(c, pvc(c, "data").spec.volumeName);
    expect(provisioned.spec.csi).toMatchObject({
      driver: "ebs.csi.aws.com",
      volumeHandle: expect.stringMatching(/^vol-0[0-9a-f]{16}$/),
    });
    expect(provisioned.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]).toEqual({
      key: "topology.kubernetes.io/zone",
      operator: "In",
      values: [zone],
    });
    expect(provisioned.spec.capacity.storage).toBe("20Gi");
  });

  it("keeps a pod with an unbound Immediate claim Pending with the scheduler's reason", async () => {
    const c = startCluster();
    c.store.create(claim("data", { accessModes: ["ReadWriteMany"], storageClassName: "efs-sc" }));
    c.store.create(registry("data", 1));
    await c.clock.advance(10_000);
    const pod = pods(c)[0]!;
    expect(pod.status.conditions.find((x: { type: string }) => x.type === "PodScheduled").message).toBe(
      "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    expect(events(c, "data").some((e) => e.reason === "ProvisioningFailed")).toBe(true);
  });
});

describe("volume snapshots", () => {
  function snapshot(name: string, claimName: string): KubeObject {
    return {
      apiVersion: "snapshot.storage.k8s.io/v1",
      kind: "VolumeSnapshot",
      metadata: { name, namespace: "registry" },
      spec: { source: { persistentVolumeClaimName: claimName } },
    };
  }

  it("becomes readyToUse for an EBS volume, and a claim restores from it", async () => {
    const c = startCluster();
    c.store.create(volume("registry-ebs", "ebs.csi.aws.com", ["ReadWriteOnce"], { storageClassName: "gp3" }));
    c.store.create(claim("data", { storageClassName: "gp3", volumeName: "registry-ebs" }));
    await c.clock.advance(1_000);
    c.store.create(snapshot("nightly", "data"));
    await c.clock.advance(1_000);
    const snap = () => c.store.get("VolumeSnapshot", "registry", "nightly")!;
    expect(snap().status).toMatchObject({ readyToUse: false, restoreSize: "50Gi" });
    await c.clock.advance(15_000);
    expect(snap().status).toMatchObject({
      readyToUse: true,
      boundVolumeSnapshotContentName: `snapcontent-${snap().metadata.uid}`,
      restoreSize: "50Gi",
    });
    expect(events(c, "nightly").map((e) => e.reason)).toEqual(
      expect.arrayContaining(["CreatingSnapshot", "SnapshotReady"]),
    );

    c.store.create(
      claim("restored", {
        storageClassName: "gp3",
        resources: { requests: { storage: "50Gi" } },
        dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "nightly" },
      }),
    );
    c.store.create({ ...registry("restored", 1), metadata: { name: "restore", namespace: "registry" } });
    await c.until(() => pvc(c, "restored").status?.phase === "Bound", 60_000);
  });

  it("never becomes ready for an EFS volume: the driver does not support snapshots", async () => {
    const c = startCluster();
    c.store.create(efsVolume());
    c.store.create(efsClaim());
    await c.clock.advance(1_000);
    c.store.create(snapshot("nightly", "data"));
    await c.clock.advance(10 * 60_000);
    const status = c.store.get("VolumeSnapshot", "registry", "nightly")!.status;
    expect(status.readyToUse).toBe(false);
    expect(status.error.message).toMatch(/efs\.csi\.aws\.com does not support snapshots/);
    expect(events(c, "nightly")).toContainEqual(
      expect.objectContaining({
        type: "Warning",
        reason: "SnapshotCreationFailed",
        message: status.error.message,
      }),
    );
  });
});
