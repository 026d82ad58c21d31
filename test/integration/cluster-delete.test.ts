/**
 * `cluster delete` in-process against the fake AWS account and the recording fake eksctl: the typed
 * confirmations, what goes first, and that the EFS data stays unless deleted on purpose.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type FakeAws, fakeAws } from "../support/fake-eksctl/aws.js";
import { fakeEksctl, removeTempDirs, tempDir } from "../support/fake-eksctl/index.js";
import { cleanEnv, runCli as runCliIn } from "../support/run-cli.js";

/** runCli in a temp dir that is removed after each test (unless the test names its own cwd). */
const runCli = (argv: string[], options: Parameters<typeof runCliIn>[1] = {}) =>
  runCliIn(argv, { cwd: tempDir(), ...options });

import { ScriptedPrompter } from "../support/scripted-prompter.js";

const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
let aws: FakeAws | undefined;
afterEach(() => {
  aws?.restore();
  aws = undefined;
  removeTempDirs();
});

const liveMountTargets = (fake: FakeAws) =>
  fake.state.mountTargets.filter((m) => m.LifeCycleState !== "deleted");
const liveFileSystems = (fake: FakeAws) =>
  fake.state.fileSystems.filter((f) => f.LifeCycleState !== "deleted");

describe("cluster delete", () => {
  it("without a terminal needs --confirm NAME, and runs nothing without it", async () => {
    aws = fakeAws();
    aws.addFileSystem("prod", ZONES);
    const eksctl = fakeEksctl();
    for (const extra of [[], ["--confirm", "prd"]]) {
      const run = await runCli(
        ["cluster", "delete", "--cluster-name", "prod", "--region", "eu-west-1", ...extra],
        {
          env: cleanEnv(eksctl.env),
        },
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("Hint: Pass --confirm prod");
    }
    expect(eksctl.calls()).toEqual([]);
    expect(aws.sts.calls()).toHaveLength(0);
    expect(liveMountTargets(aws)).toHaveLength(3);
  });

  it("--dry-run lists what would go and changes nothing", async () => {
    aws = fakeAws();
    const fsId = aws.addFileSystem("prod", ZONES);
    const eksctl = fakeEksctl();
    const run = await runCli(
      ["cluster", "delete", "--cluster-name", "prod", "--region", "eu-west-1", "--dry-run"],
      {
        env: cleanEnv(eksctl.env),
      },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Delete EKS cluster prod in eu-west-1:");
    expect(run.stdout).toContain("EKS has no cluster of that name");
    expect(run.stdout.match(/delete EFS mount target fsmt-\S+ \(eu-west-1[abc]\)/g)).toHaveLength(3);
    expect(run.stdout).toContain(`keep EFS file system ${fsId}`);
    expect(run.stdout).toContain("Dry run: nothing was deleted.");
    expect(eksctl.calls()).toEqual([]);
    expect(liveMountTargets(aws)).toHaveLength(3);
  });

  it("removes the mount targets and keeps the file system by default", async () => {
    aws = fakeAws();
    const fsId = aws.addFileSystem("prod", ZONES);
    const eksctl = fakeEksctl();
    const run = await runCli(
      [
        "cluster",
        "delete",
        "--cluster-name",
        "prod",
        "--region",
        "eu-west-1",
        "--confirm",
        "prod",
        "-o",
        "json",
      ],
      { env: cleanEnv(eksctl.env) },
    );
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ cluster: "prod", keptFileSystem: fsId });
    expect(result.deleted).toEqual(["deleted 3 EFS mount target(s)"]);
    expect(liveMountTargets(aws)).toEqual([]);
    expect(liveFileSystems(aws).map((f) => f.FileSystemId)).toEqual([fsId]);
    // EKS has no such cluster: eksctl is asked its version, never to delete.
    expect(eksctl.calls().map((c) => c.argv)).toEqual([["version"]]);
  });

  it("--delete-data needs a second confirmation naming the file system", async () => {
    aws = fakeAws();
    const fsId = aws.addFileSystem("prod", ZONES);
    const eksctl = fakeEksctl();
    const cwd = tempDir();
    writeFileSync(
      join(cwd, "clouddrove.yaml"),
      `cluster:\n  name: prod\n  region: eu-west-1\nstorage:\n  efs:\n    fileSystemId: ${fsId}\n  size: 80Gi\n`,
    );
    const base = ["cluster", "delete", "--confirm", "prod", "--delete-data"];
    const refused = await runCli(base, { env: cleanEnv(eksctl.env), cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`Hint: Pass --confirm-delete-data ${fsId}`);
    expect(liveMountTargets(aws)).toHaveLength(3);
    expect(liveFileSystems(aws)).toHaveLength(1);

    const run = await runCli([...base, "--confirm-delete-data", fsId], { env: cleanEnv(eksctl.env), cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`deleted EFS file system ${fsId}`);
    expect(liveFileSystems(aws)).toEqual([]);
    const config = parse(readFileSync(join(cwd, "clouddrove.yaml"), "utf8"));
    expect(config).toEqual({ cluster: { name: "prod", region: "eu-west-1" }, storage: { size: "80Gi" } });
  });

  it("at a terminal asks for the cluster's name, then the file system's id", async () => {
    aws = fakeAws();
    const fsId = aws.addFileSystem("prod", ZONES);
    const eksctl = fakeEksctl();
    const prompter = new ScriptedPrompter(["prd", "prod", fsId]);
    const run = await runCli(
      ["cluster", "delete", "--cluster-name", "prod", "--region", "eu-west-1", "--delete-data"],
      {
        env: cleanEnv(eksctl.env),
        tty: true,
        prompter,
      },
    );
    expect(run.code).toBe(0);
    expect(prompter.asked.map((q) => q.message)).toEqual([
      "Type the cluster name (prod) to delete it",
      `The registry's data will be gone for good. Type the file system id (${fsId}) to delete it`,
    ]);
    expect(prompter.asked[0]?.rejected).toEqual(["Type prod exactly, or press Ctrl-C to keep it."]);
    expect(liveFileSystems(aws)).toEqual([]);
  });

  it("Ctrl-C at the confirmation deletes nothing (exit 130)", async () => {
    aws = fakeAws();
    aws.addFileSystem("prod", ZONES);
    const eksctl = fakeEksctl();
    const prompter = new ScriptedPrompter([{ interrupt: true }]);
    const run = await runCli(["cluster", "delete", "--cluster-name", "prod", "--region", "eu-west-1"], {
      env: cleanEnv(eksctl.env),
      tty: true,
      prompter,
    });
    expect(run.code).toBe(130);
    expect(liveMountTargets(aws)).toHaveLength(3);
  });
});
