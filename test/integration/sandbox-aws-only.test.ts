/**
 * `--sandbox` needs no AWS account: with no AWS settings in the command's environment, and the process's
 * own environment pointing the SDK at a dead endpoint with a stranger's key, `cluster create --sandbox`,
 * `cluster verify --sandbox` and `deploy --sandbox` succeed — their AWS calls reach the sandbox's endpoint
 * with the sandbox's key only, and deploy finds the EFS file system id by asking the sandbox's EFS.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DescribeAccessPointsCommand, DescribeFileSystemsCommand, EFSClient } from "@aws-sdk/client-efs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { awsEnvironment, down, startSandbox } from "../../sandbox/src/index.js";
import { awsClientConfig } from "../../src/adapters/aws.js";
import { cleanEnv, runCli, tempDir } from "../support/run-cli.js";
import { PASSWORD } from "./upgrade-harness.js";

const POISON = {
  AWS_ACCESS_KEY_ID: "AKIAPOISONEDPOISONED",
  AWS_SECRET_ACCESS_KEY: "not-the-sandbox-secret-not-the-sandbox-1",
  AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  AWS_REGION: "ap-south-2",
  AWS_PROFILE: "no-such-profile",
};
const saved: Record<string, string | undefined> = {};
beforeEach(() => {
  for (const [name, value] of Object.entries(POISON)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
});
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe("--sandbox with no AWS credentials but the sandbox's own", () => {
  it("cluster create, cluster verify and deploy succeed; deploy's volume is its access point on the sandbox's EFS file system", async () => {
    const cwd = tempDir();
    const env = cleanEnv({
      CI: "true",
      CLOUDDROVE_SANDBOX_DIR: join(cwd, "sandbox"),
      CLOUDDROVE_SANDBOX_SPEED: "300",
      CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD,
    });
    expect(Object.keys(env).filter((name) => name.startsWith("AWS_"))).toEqual([]);

    const create = await runCli(["cluster", "create", "--sandbox"], { env, cwd });
    expect(create.code, create.stderr).toBe(0);
    const verify = await runCli(["cluster", "verify", "--sandbox", "-o", "json"], { env, cwd });
    expect(verify.code, verify.stderr).toBe(0);
    expect((JSON.parse(verify.stdout) as { ok: boolean }).ok).toBe(true);

    const deploy = await runCli(["deploy", "--sandbox", "--yes", "--no-smoke-test", "-o", "json"], {
      env,
      cwd,
    });
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(existsSync(join(cwd, "clouddrove.yaml"))).toBe(false);

    // The commands left the sandbox running in the background; its saved state is read in this process.
    await down(env.CLOUDDROVE_SANDBOX_DIR as string);
    const sandbox = await startSandbox({ stateDir: env.CLOUDDROVE_SANDBOX_DIR, runtime: false });
    try {
      const efs = new EFSClient(awsClientConfig("EFS", sandbox.aws.region, awsEnvironment(sandbox.aws)));
      const [fileSystem] = (await efs.send(new DescribeFileSystemsCommand({}))).FileSystems ?? [];
      const handles = sandbox.store
        .list("PersistentVolume")
        .map((pv) => pv.spec?.csi?.volumeHandle as string | undefined);
      expect(fileSystem?.FileSystemId).toMatch(/^fs-0[0-9a-f]{16}$/);
      // The installation's own directory: the namespace's access point, rooted at /clouddrove/clouddrove.
      const points = await efs.send(
        new DescribeAccessPointsCommand({ FileSystemId: fileSystem?.FileSystemId }),
      );
      expect(points.AccessPoints).toHaveLength(1);
      const [point] = points.AccessPoints ?? [];
      expect(point?.RootDirectory?.Path).toBe("/clouddrove/clouddrove");
      expect(handles).toEqual([`${fileSystem?.FileSystemId}::${point?.AccessPointId}`]);
    } finally {
      await sandbox.stop();
    }
  });
});
