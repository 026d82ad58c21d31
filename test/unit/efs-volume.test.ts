/**
 * Where an installation's data lives on EFS, as rendered: the PersistentVolume's handle on the
 * namespace's access point, the registry's user as the access point's owner, the volume handles parsed as
 * the EFS CSI driver writes them, and the installations found at a file system's root.
 */
import type { V1PersistentVolume } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  accessPointHandle,
  atRoot,
  installationDirectory,
  otherInstallationsAtRoot,
  parseVolumeHandle,
  placeEfsVolume,
  registryUser,
  rootVolumeWarning,
} from "../../src/core/deploy/efs-volume.js";
import { renderManifests } from "../../src/core/render/index.js";
import { configWith, credentials, tls } from "../support/render-fixtures.js";

const efsVolume = (namespace: string, handle: string): V1PersistentVolume => ({
  metadata: { name: `registry-clouddrove-data-${namespace}` },
  spec: {
    csi: { driver: "efs.csi.aws.com", volumeHandle: handle },
    claimRef: { namespace, name: "registry-clouddrove-data" },
  },
});

describe("an installation's directory on EFS", () => {
  it("puts the rendered volume on the namespace's access point, owned by the registry's user", async () => {
    const config = configWith("namespace=team-a", "storage.efs.fileSystemId=fs-0123456789abcdef0");
    const objects = await renderManifests(config, credentials, tls);
    expect(registryUser(objects)).toEqual({ uid: 1000, gid: 1000 });
    const fs = config.storage.efs.fileSystemId as string;
    placeEfsVolume(objects, accessPointHandle(fs, "fsap-0123456789abcdef0"));
    const volume = objects.find((o) => o.kind === "PersistentVolume") as unknown as V1PersistentVolume;
    expect(volume.spec?.csi?.volumeHandle).toBe(`${fs}::fsap-0123456789abcdef0`);
    expect(volume.spec?.claimRef?.namespace).toBe("team-a");
    expect(installationDirectory("team-a")).toBe("/clouddrove/team-a");
  });

  it("reads volume handles as the EFS CSI driver writes them", () => {
    expect(parseVolumeHandle("fs-1")).toEqual({
      fileSystemId: "fs-1",
      path: undefined,
      accessPointId: undefined,
    });
    expect(parseVolumeHandle("fs-1:/x")).toEqual({
      fileSystemId: "fs-1",
      path: "/x",
      accessPointId: undefined,
    });
    expect(parseVolumeHandle("fs-1::fsap-2")).toEqual({
      fileSystemId: "fs-1",
      path: undefined,
      accessPointId: "fsap-2",
    });
    expect([atRoot("fs-1"), atRoot("fs-1:/x"), atRoot("fs-1::fsap-2")]).toEqual([true, false, false]);
  });

  it("finds the other installations at a file system's root, and says how to move one", () => {
    const volumes = [
      efsVolume("a", "fs-1"),
      efsVolume("b", "fs-1::fsap-2"),
      efsVolume("c", "fs-9"),
      efsVolume("me", "fs-1"),
    ];
    expect(otherInstallationsAtRoot(volumes, "fs-1", "me")).toEqual(["a"]);
    const warning = rootVolumeWarning("a", "fs-1");
    expect(warning).toContain("is the root of EFS file system fs-1");
    expect(warning).toContain("(1) clouddrove backup now --namespace a");
    expect(warning).toContain("clouddrove backup restore --namespace a --from latest");
    expect(warning).toContain("/clouddrove/a");
  });
});
