/**
 * How the sandbox runs a backup Job's container on the host: which containers are script containers,
 * container paths translated through the mounts, exactly the container's env (nothing of this process),
 * and the sandbox's S3 injected without overriding what the container sets itself.
 */
import { afterEach, describe, expect, it } from "vitest";
import { planScriptLaunch, scriptArguments, scriptTools } from "../../src/runtime/script-launch.js";
import type { MountTable } from "../../src/runtime/volumes.js";

const mounts: MountTable = {
  mounts: [
    { containerPath: "/var/lib/clouddrove", hostPath: "/data/efs/fs-1", readOnly: true },
    { containerPath: "/scripts", hostPath: "/data/pods/uid/volumes/scripts", readOnly: true },
  ],
  rootfs: "/data/pods/uid/rootfs",
  problems: [],
};
const s3 = {
  endpoint: "http://127.0.0.1:40000",
  region: "eu-west-1",
  accessKeyId: "SANDBOXKEY",
  secretAccessKey: "sandbox-secret",
};
const archive = {
  name: "archive",
  image: "rclone/rclone:1.68.2",
  command: ["/bin/sh", "/scripts/archive.sh"],
};

describe("script containers", () => {
  it("are Alpine's shell scripts from a file (the node-trust DaemonSet's), never a bare sh -c", () => {
    const installCa = { image: "alpine:3.20.3", command: ["/bin/sh", "/trust/install-ca.sh"] };
    expect(scriptArguments(installCa)).toEqual(["/trust/install-ca.sh"]);
    expect(scriptArguments({ ...installCa, image: "docker.io/library/alpine:3.24.2@sha256:abc" })).toEqual([
      "/trust/install-ca.sh",
    ]);
    expect(scriptArguments({ image: "alpine:3.20.3", command: ["sh"] })).toBeUndefined();
    // Only rclone's image needs rclone on the host; Alpine's needs the shell alone.
    expect(scriptTools(installCa)).toEqual([]);
    expect(scriptTools(archive)).toEqual(["rclone"]);
  });

  it("Alpine's get no S3 injected: the node-trust script talks to nothing", () => {
    const plan = planScriptLaunch({
      container: { image: "alpine:3.20.3", command: ["/bin/sh", "/scripts/archive.sh"] },
      mounts,
      env: { REGISTRIES: "127.0.0.1:5000" },
      podName: "node-trust-abc",
      s3,
    });
    expect(plan.env.AWS_ACCESS_KEY_ID).toBeUndefined();
    expect(plan.env.RCLONE_CONFIG_BACKUP_ENDPOINT).toBeUndefined();
    expect(plan.env.REGISTRIES).toBe("127.0.0.1:5000");
  });

  it("are the backup image's shell scripts, not its own entrypoint nor another image's", () => {
    expect(scriptArguments(archive)).toEqual(["/scripts/archive.sh"]);
    expect(
      scriptArguments({ image: "docker.io/rclone/rclone:1.68", command: ["sh"], args: ["-c", "echo hi"] }),
    ).toEqual(["-c", "echo hi"]);
    // The image's own entrypoint (rclone), another image, or no command: simulated.
    expect(scriptArguments({ image: "rclone/rclone:1.68", args: ["version"] })).toBeUndefined();
    expect(scriptArguments({ image: "alpine:3.20.3", command: ["/bin/sh", "-c", "true"] })).toBeUndefined();
    expect(scriptArguments({ image: "rclone/rclone:1.68", command: ["rclone", "ls"] })).toBeUndefined();
  });
});

describe("script containers of a registry image", () => {
  it("are its shell scripts (the gc Job's); the registry serving stays a registry container", () => {
    const collect = {
      image: "registry:2.8.2",
      command: ["/bin/sh", "-c"],
      args: ["registry garbage-collect x"],
    };
    expect(scriptArguments(collect)).toEqual(["-c", "registry garbage-collect x"]);
    expect(scriptArguments({ ...collect, image: "docker.io/library/registry:3.0.0" })).toEqual([
      "-c",
      "registry garbage-collect x",
    ]);
    // registry:latest is no known major version; the serving container has no shell command.
    expect(scriptArguments({ ...collect, image: "registry:latest" })).toBeUndefined();
    expect(
      scriptArguments({ image: "registry:2.8.2", args: ["serve", "/etc/docker/registry/config.yml"] }),
    ).toBeUndefined();
  });

  it("find `registry` first on PATH, in the directory the runtime links the binary into", () => {
    const plan = planScriptLaunch({
      container: { image: "registry:2.8.2", command: ["/bin/sh", "-c"], args: ["true"] },
      mounts,
      env: { DATA_DIR: "/var/lib/clouddrove" },
      podName: "registry-clouddrove-gc-x",
      s3: undefined,
      binDirectory: "/data/pods/uid/bin/collect",
    });
    expect(plan.env.PATH?.split(":")[0]).toBe("/data/pods/uid/bin/collect");
    expect(plan.env.DATA_DIR).toBe("/data/efs/fs-1");
    expect(plan.args).toEqual(["-c", "true"]);
  });
});

describe("planScriptLaunch", () => {
  const previous = process.env.AWS_CA_BUNDLE;
  afterEach(() => {
    if (previous === undefined) delete process.env.AWS_CA_BUNDLE;
    else process.env.AWS_CA_BUNDLE = previous;
  });

  it("translates container paths, passes only the container's env, and points rclone at the sandbox's S3", () => {
    process.env.AWS_CA_BUNDLE = "/etc/ssl/this-machine.pem";
    const plan = planScriptLaunch({
      container: archive,
      mounts,
      env: { DATA_DIR: "/var/lib/clouddrove", HOME: "/tmp", RCLONE_CONFIG: "/dev/null", BACKUP_PREFIX: "c/" },
      podName: "backup-now-abc",
      s3,
    });
    expect(plan.args).toEqual(["/data/pods/uid/volumes/scripts/archive.sh"]);
    expect(plan.env).toEqual({
      PATH: process.env.PATH,
      HOSTNAME: "backup-now-abc",
      TMPDIR: "/data/pods/uid/rootfs/tmp",
      DATA_DIR: "/data/efs/fs-1",
      HOME: "/data/pods/uid/rootfs/tmp",
      RCLONE_CONFIG: "/dev/null",
      BACKUP_PREFIX: "c/",
      AWS_REGION: "eu-west-1",
      AWS_DEFAULT_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "SANDBOXKEY",
      AWS_SECRET_ACCESS_KEY: "sandbox-secret",
      AWS_ENDPOINT_URL_S3: "http://127.0.0.1:40000",
      RCLONE_CONFIG_BACKUP_PROVIDER: "Other",
      RCLONE_CONFIG_BACKUP_ENDPOINT: "http://127.0.0.1:40000",
      RCLONE_CONFIG_BACKUP_FORCE_PATH_STYLE: "true",
    });
    expect(plan.notes).toEqual([]);
  });

  it("keeps what the container sets itself, and an endpoint on 127.0.0.1; any other endpoint is replaced, with a note", () => {
    const own = planScriptLaunch({
      container: archive,
      mounts,
      env: {
        AWS_ACCESS_KEY_ID: "FROMSECRET",
        AWS_REGION: "us-east-1",
        RCLONE_CONFIG_BACKUP_PROVIDER: "Other",
        RCLONE_CONFIG_BACKUP_ENDPOINT: "http://127.0.0.1:9000",
      },
      podName: "p",
      s3,
    });
    expect(own.env).toMatchObject({
      AWS_ACCESS_KEY_ID: "FROMSECRET",
      AWS_SECRET_ACCESS_KEY: "sandbox-secret",
      AWS_REGION: "us-east-1",
      RCLONE_CONFIG_BACKUP_ENDPOINT: "http://127.0.0.1:9000",
    });
    expect(own.env.RCLONE_CONFIG_BACKUP_FORCE_PATH_STYLE).toBeUndefined();
    const outside = planScriptLaunch({
      container: archive,
      mounts,
      env: { RCLONE_CONFIG_BACKUP_ENDPOINT: "https://minio.example.com" },
      podName: "p",
      s3,
    });
    expect(outside.env.RCLONE_CONFIG_BACKUP_ENDPOINT).toBe("http://127.0.0.1:40000");
    expect(outside.notes).toEqual([
      "endpoint https://minio.example.com is outside the sandbox: the container uses the sandbox's S3 instead",
    ]);
  });
});
