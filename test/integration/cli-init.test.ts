import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cleanEnv, runCli, tempDir } from "../support/run-cli.js";
import { ScriptedPrompter } from "../support/scripted-prompter.js";

/** Region eu-central-1, then the defaults up to the backup questions (name, efs, no EFS id, no CIDRs, private-ca, no host name). */
const UP_TO_BACKUPS = ["eu-central-1", "", "efs", "", "", "", ""];

describe("clouddrove init at a terminal", () => {
  it("asks only what has no safe default, validates as typed, and writes the file without secrets", async () => {
    const cwd = tempDir();
    const prompter = new ScriptedPrompter([
      "eu-west", // region: rejected by validation
      "eu-west-1", // region
      "", // cluster name: accept default
      "efs", // storage type
      "fs-nothex", // EFS id: rejected
      "fs-0123456789abcdef0",
      "10.0.0.0/8", // allowed CIDRs
      "", // TLS: the default, private-ca
      "Registry.Example.com", // host name: rejected (upper case)
      "registry.example.com",
      "", // backups: the default, create (cluster create makes the bucket and role)
      "", // backup bucket: the name cluster create derives
    ]);
    const env = cleanEnv({ CLOUDDROVE_REGISTRY_PASSWORD: "a-very-secret-password" });
    const run = await runCli(["init"], { cwd, tty: true, prompter, env });
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    expect(prompter.asked.map((q) => q.message)).toEqual([
      "AWS region (e.g. eu-west-1)",
      "EKS cluster name",
      "shared ReadWriteMany storage behind the volume",
      "EFS file system id (fs-...) (optional, Enter to skip)",
      expect.stringContaining("CIDRs admitted"),
      expect.stringContaining("TLS: private-ca"),
      expect.stringContaining("DNS name clients will use"),
      expect.stringContaining("Backups: create"),
      expect.stringContaining("Enter: cluster create names it clouddrove-backup-ACCOUNT-REGION-CLUSTER"),
    ]);
    expect(prompter.asked[7]?.choices).toEqual(["create", "manual"]);
    expect(prompter.asked[7]?.default).toBe("create");
    // The line under a rejected answer says what is expected, once ("Expected expected ..." before).
    expect(prompter.asked[0]?.rejected).toEqual([
      "Expected an AWS region code such as us-east-1 or eu-west-2.",
    ]);
    expect(prompter.asked[3]?.rejected).toEqual([
      "Expected an EFS file system id such as fs-0123456789abcdef0.",
    ]);
    expect(prompter.asked[5]?.default).toBe("private-ca");
    expect(prompter.asked[6]?.rejected[0]).toContain("lowercase DNS name");
    expect(prompter.asked[1]?.default).toBe("clouddrove");
    // ebs would only end the run (ReadWriteOnce, one zone): it is not offered.
    expect(prompter.asked[2]?.choices).toEqual(["efs", "nfs"]);

    const text = readFileSync(join(cwd, "clouddrove.yaml"), "utf8");
    expect(text).not.toContain("a-very-secret-password");
    expect(parse(text)).toEqual({
      cluster: { name: "clouddrove", region: "eu-west-1" },
      storage: { type: "efs", efs: { fileSystemId: "fs-0123456789abcdef0" } },
      network: { allowedCidrs: ["10.0.0.0/8"] },
      tls: { mode: "private-ca", hostname: "registry.example.com" },
      backup: { setup: "create" },
    });
    expect(run.stdout).toContain("Wrote");
  });

  it("does not ask what a flag or env var already gave, and follows storage choices", async () => {
    const cwd = tempDir();
    // Plain HTTP chosen: no host name question follows.
    const prompter = new ScriptedPrompter([
      "nfs",
      "nfs.internal",
      "/exports/registry",
      "",
      "insecure-http",
      "manual", // backups: set up by hand
      "", // no bucket: backups off
    ]);
    const env = cleanEnv({ CLOUDDROVE_CLUSTER_REGION: "us-west-2" });
    const run = await runCli(["init", "--cluster-name", "prod"], { cwd, tty: true, prompter, env });
    expect(run.code).toBe(0);
    expect(prompter.asked.map((q) => q.message)).toEqual([
      "shared ReadWriteMany storage behind the volume",
      "NFS server host name or address",
      "exported path on the NFS server",
      expect.stringContaining("CIDRs"),
      expect.stringContaining("TLS: private-ca"),
      expect.stringContaining("Backups: create"),
      "S3 bucket for archives (backups are off without it) (optional, Enter to skip)",
    ]);
    const written = parse(readFileSync(join(cwd, "clouddrove.yaml"), "utf8"));
    expect(written.backup).toEqual({ setup: "manual" });
    expect(written.cluster).toEqual({ name: "prod", region: "us-west-2" });
    expect(written.tls).toEqual({ mode: "insecure-http" });
    expect(written.storage).toEqual({
      type: "nfs",
      nfs: { server: "nfs.internal", path: "/exports/registry" },
    });
  });

  it("with backup.setup create, asks only the bucket's name: cluster create makes the bucket and its role", async () => {
    const cwd = tempDir();
    const prompter = new ScriptedPrompter([...UP_TO_BACKUPS, "create", "team-registry-backups"]);
    const run = await runCli(["init"], { cwd, tty: true, prompter, env: cleanEnv() });
    expect(run.code).toBe(0);
    expect(prompter.asked.map((q) => q.message).slice(-2)).toEqual([
      expect.stringContaining("Backups: create"),
      expect.stringContaining("one of this account's buckets"),
    ]);
    const written = parse(readFileSync(join(cwd, "clouddrove.yaml"), "utf8"));
    expect(written.backup).toEqual({ setup: "create", bucket: "team-registry-backups" });
  });

  it("asks for the IRSA role when backups are set up by hand with a bucket", async () => {
    const cwd = tempDir();
    const prompter = new ScriptedPrompter([
      ...UP_TO_BACKUPS,
      "manual",
      "registry-backups",
      "irsa",
      "arn:aws:iam::123456789012:role/clouddrove-backup",
    ]);
    const run = await runCli(["init"], { cwd, tty: true, prompter, env: cleanEnv() });
    expect(run.code).toBe(0);
    const written = parse(readFileSync(join(cwd, "clouddrove.yaml"), "utf8"));
    expect(written.backup).toEqual({
      setup: "manual",
      bucket: "registry-backups",
      credentials: "irsa",
      roleArn: "arn:aws:iam::123456789012:role/clouddrove-backup",
    });
  });

  it("Ctrl-C at a prompt exits 130 with no stack trace and writes nothing", async () => {
    const cwd = tempDir();
    const prompter = new ScriptedPrompter(["eu-west-1", { interrupt: true }]);
    const run = await runCli(["init"], { cwd, tty: true, prompter, env: cleanEnv() });
    expect(run.code).toBe(130);
    expect(run.stderr).toContain("Interrupted");
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(cwd, "clouddrove.yaml"))).toBe(false);
  });
});

describe("clouddrove init without a terminal", () => {
  it("fails with exit 2 naming every missing value with its flag and env var, and writes nothing", async () => {
    const cwd = tempDir();
    const run = await runCli(["init", "--storage-type", "nfs"], { cwd, env: cleanEnv({ CI: "true" }) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("2 required settings are missing");
    expect(run.stderr).toContain("--region or CLOUDDROVE_CLUSTER_REGION");
    expect(run.stderr).toContain("--nfs-server or CLOUDDROVE_STORAGE_NFS_SERVER");
    expect(existsSync(join(cwd, "clouddrove.yaml"))).toBe(false);
  });

  it("writes the file from flags, env and defaults", async () => {
    const cwd = tempDir();
    const env = cleanEnv({ CI: "true", CLOUDDROVE_STORAGE_SIZE: "100Gi" });
    const run = await runCli(["init", "--region", "eu-west-1", "-o", "json"], { cwd, env });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.settings).toMatchObject({ "cluster.region": "eu-west-1", "storage.size": "100Gi" });
    expect(parse(readFileSync(join(cwd, "clouddrove.yaml"), "utf8")).storage.size).toBe("100Gi");
  });

  it("prints next steps that read the same file and reach the same cluster as this run", async () => {
    const cwd = tempDir();
    const env = cleanEnv({ CI: "true" });
    const plain = await runCli(["init", "--region", "eu-west-1"], { cwd, env });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^ {2}clouddrove deploy {3}# the registry on it$/m);
    const other = await runCli(
      ["--config", "prod config.yaml", "--context", "prod-admin", "init", "--region", "eu-west-1"],
      { cwd, env },
    );
    expect(other.code).toBe(0);
    expect(existsSync(join(cwd, "prod config.yaml"))).toBe(true);
    expect(other.stdout).toContain(
      "  clouddrove cluster create --config 'prod config.yaml' --context prod-admin   #",
    );
    expect(other.stdout).toContain(
      "  clouddrove deploy --config 'prod config.yaml' --context prod-admin   #",
    );
  });

  it("refuses to rewrite an existing file without --yes, and keeps its settings with --yes", async () => {
    const cwd = tempDir();
    const path = join(cwd, "clouddrove.yaml");
    writeFileSync(path, "cluster:\n  region: eu-west-1\nregistry:\n  replicas: 5\n");
    const refused = await runCli(["init"], { cwd, env: cleanEnv({ CI: "true" }) });
    expect(refused.code).toBe(2);
    expect(readFileSync(path, "utf8")).toContain("replicas: 5");
    const rewritten = await runCli(["init", "--yes", "--cluster-name", "other"], { cwd, env: cleanEnv() });
    expect(rewritten.code).toBe(0);
    const written = parse(readFileSync(path, "utf8"));
    expect(written.registry.replicas).toBe(5);
    expect(written.cluster.name).toBe("other");
  });

  it("at a terminal, Enter at 'Rewrite it?' keeps an existing file as it is", async () => {
    const cwd = tempDir();
    const path = join(cwd, "clouddrove.yaml");
    const before = "cluster:\n  region: eu-west-1\nregistry:\n  replicas: 5\n";
    writeFileSync(path, before);
    const prompter = new ScriptedPrompter([""]);
    const run = await runCli(["init"], { cwd, tty: true, prompter, env: cleanEnv() });
    expect(run.code).toBe(0);
    expect(prompter.asked).toMatchObject([{ kind: "confirm", default: false }]);
    expect(run.stderr).toContain("Nothing written.");
    expect(readFileSync(path, "utf8")).toBe(before);
  });

  it("rejects an invalid value before writing anything", async () => {
    const cwd = tempDir();
    const run = await runCli(["init", "--region", "eu-west-1", "--storage-size", "50GB"], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("storage.size: '50GB' from --storage-size is not valid");
    expect(existsSync(join(cwd, "clouddrove.yaml"))).toBe(false);
  });
});
