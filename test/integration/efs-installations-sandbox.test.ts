/**
 * Each installation's own directory on EFS, on the sandbox (its AWS endpoint stands in for EFS, its CSI
 * stand-in mounts an access point's root directory): two namespaces deployed with the region known get
 * an access point each, rooted at /clouddrove/<namespace>, and see different data. A volume at the file
 * system's root (made without a region, or before access points) is kept with a warning that explains
 * the move, and a second installation next to it is refused.
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { awsEnvironment } from "../../sandbox/src/index.js";
import { persistentVolumeDirectory } from "../../sandbox/src/runtime/layout.js";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { cleanEnv, runCli } from "../support/run-cli.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

let t: TestSandbox;
beforeEach(async () => {
  t = await startTestSandbox({ controllers: true, speed: 200 });
});
afterEach(async () => {
  await t.stop();
});

function deploy(namespace: string, withAws: boolean, extra: string[] = []) {
  return runCli(
    [
      "--kubeconfig",
      t.kubeconfigPath,
      "-o",
      "json",
      "deploy",
      "--yes",
      "--no-smoke-test",
      "--namespace",
      namespace,
      ...extra,
    ],
    {
      env: cleanEnv({
        CI: "true",
        CLOUDDROVE_REGISTRY_PASSWORD: "correct-horse-battery-staple",
        ...(withAws ? awsEnvironment(t.sandbox.aws) : {}),
      }),
      cwd: t.dir,
    },
  );
}

const volume = (namespace: string) =>
  t.sandbox.store.get("PersistentVolume", undefined, `registry-clouddrove-data-${namespace}`) as Any;

describe("EFS: one directory per installation", () => {
  it("two namespaces get an access point each, rooted at /clouddrove/<namespace>, and see different data", async () => {
    const a = await deploy("a", true);
    expect(a.code, a.stderr).toBe(0);
    const b = await deploy("b", true);
    expect(b.code, b.stderr).toBe(0);
    const handles = ["a", "b"].map((ns) => volume(ns).spec.csi.volumeHandle as string);
    const fs = handles[0]?.split(":")[0] as string;
    expect(fs).toMatch(/^fs-/);
    for (const handle of handles) expect(handle).toMatch(new RegExp(`^${fs}::fsap-[0-9a-f]+$`));
    expect(handles[0]).not.toBe(handles[1]);
    expect(a.stderr).not.toContain("root of");

    // The CSI stand-in mounts each access point's root directory, as the EFS CSI driver does.
    const dataDir = t.sandbox.runtime?.dataDir as string;
    const dirA = persistentVolumeDirectory(dataDir, volume("a"));
    const dirB = persistentVolumeDirectory(dataDir, volume("b"));
    expect(dirA).toBe(join(dataDir, "efs", fs, "clouddrove", "a"));
    expect(dirB).toBe(join(dataDir, "efs", fs, "clouddrove", "b"));
    // Both registries mounted their own (the init container made each data directory ready).
    expect(existsSync(dirA) && existsSync(dirB)).toBe(true);
    writeFileSync(join(dirA, "only-in-a"), "a");
    expect(readdirSync(dirB)).not.toContain("only-in-a");

    // A deploy again finds the same access point (by tag) and keeps the volume.
    const again = await deploy("a", true);
    expect(again.code, again.stderr).toBe(0);
    expect(volume("a").spec.csi.volumeHandle).toBe(handles[0]);
  });

  it("a volume at the root is kept with the way to move it, and a second installation next to it is refused", async () => {
    // Without a region EFS cannot be asked: the first installation's volume is the root, with a warning.
    const first = await deploy("a", false, ["--efs-file-system-id", "fs-0123456789abcdef0"]);
    expect(first.code, first.stderr).toBe(0);
    expect(volume("a").spec.csi.volumeHandle).toBe("fs-0123456789abcdef0");
    expect(first.stderr).toContain("no AWS region is set");
    expect(first.stderr).toContain("is the root of fs-0123456789abcdef0");
    const again = await deploy("a", false, ["--efs-file-system-id", "fs-0123456789abcdef0"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("is the root of EFS file system fs-0123456789abcdef0");
    expect(again.stderr).toContain("clouddrove backup now --namespace a");

    const second = await deploy("b", false, ["--efs-file-system-id", "fs-0123456789abcdef0"]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(
      "The registry in namespace a uses the root of EFS file system fs-0123456789abcdef0",
    );
    expect(second.stderr).toContain("kubectl -n a delete pvc registry-clouddrove-data");
    expect(volume("b")).toBeUndefined();
    // Refused before anything was written: not even the namespace (a first deploy's lock) is left.
    expect(t.sandbox.store.get("Namespace", undefined, "b")).toBeUndefined();
  });
});
