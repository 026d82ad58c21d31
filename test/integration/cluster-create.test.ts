/**
 * `cluster create` end to end in-process: the real SDK clients against a fake AWS account
 * (aws-sdk-client-mock), the recording fake eksctl on PATH, real files and temp dirs.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { main } from "../../src/cli.js";
import { type FakeAws, fakeAws } from "../support/fake-eksctl/aws.js";
import { fakeEksctl, removeTempDirs, tempDir } from "../support/fake-eksctl/index.js";
import { cleanEnv, runCli as runCliIn } from "../support/run-cli.js";

/** runCli in a temp dir that is removed after each test (unless the test names its own cwd). */
const runCli = (argv: string[], options: Parameters<typeof runCliIn>[1] = {}) =>
  runCliIn(argv, { cwd: tempDir(), ...options });

import { ScriptedPrompter } from "../support/scripted-prompter.js";

let aws: FakeAws | undefined;
afterEach(() => {
  aws?.restore();
  aws = undefined;
  removeTempDirs();
});

describe("cluster create: preflight and bad input", () => {
  it("--dry-run -o yaml prints the ClusterConfig and changes nothing", async () => {
    aws = fakeAws({ region: "us-east-1", zones: ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"] });
    const eksctl = fakeEksctl();
    const cwd = tempDir();
    const run = await runCli(
      ["cluster", "create", "--region", "us-east-1", "--cluster-name", "prod", "--dry-run", "-o", "yaml"],
      { env: cleanEnv(eksctl.env), cwd },
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const config = parse(run.stdout);
    expect(config.metadata).toMatchObject({ name: "prod", region: "us-east-1", version: "1.33" });
    expect(run.stdout).toContain('version: "1.33"');
    expect(config.availabilityZones).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
    expect(config.managedNodeGroups.map((g: { name: string }) => g.name)).toEqual([
      "ng-us-east-1a",
      "ng-us-east-1b",
      "ng-us-east-1c",
    ]);
    expect(eksctl.calls()).toEqual([]);
    expect(aws.state.fileSystems).toEqual([]);
  });

  it("--dry-run in text shows the plan and the config", async () => {
    aws = fakeAws();
    const eksctl = fakeEksctl();
    const run = await runCli(["cluster", "create", "--region", "eu-west-1", "--dry-run"], {
      env: cleanEnv(eksctl.env),
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "Create EKS cluster clouddrove (Kubernetes 1.33) in eu-west-1 (account 123456789012):",
    );
    expect(run.stdout).toContain("run: eksctl create cluster -f eksctl-clouddrove.yaml");
    expect(run.stdout).toContain('configurationValues: \'{"enableNetworkPolicy": "true"}\'');
    expect(eksctl.calls()).toEqual([]);
  });

  const badInputs: Array<{
    what: string;
    argv: string[];
    aws?: Parameters<typeof fakeAws>[0];
    expect: string;
  }> = [
    {
      what: "a region with two zones",
      argv: ["--region", "ca-west-1"],
      aws: { region: "ca-west-1", zones: ["ca-west-1a", "ca-west-1b"] },
      expect: "Region ca-west-1 offers 2 available zone(s) (ca-west-1a, ca-west-1b)",
    },
    {
      what: "a zone from another region",
      argv: ["--region", "eu-west-1", "--zones", "eu-west-1a,eu-west-1b,us-east-1c"],
      expect: "cluster.zones: 'us-east-1c' is not in region eu-west-1",
    },
    {
      what: "a zone the region does not offer",
      argv: ["--region", "eu-west-1", "--zones", "eu-west-1a,eu-west-1b,eu-west-1d"],
      expect: "eu-west-1d is not an available zone of region eu-west-1",
    },
    {
      what: "an invalid cluster name",
      argv: ["--region", "eu-west-1", "--cluster-name", "my_cluster"],
      expect: "cluster.name: 'my_cluster' from --cluster-name is not valid",
    },
    {
      what: "a Kubernetes version EKS does not offer",
      argv: ["--region", "eu-west-1", "--kubernetes-version", "1.29"],
      expect: "Kubernetes 1.29 is not a version EKS offers",
    },
    { what: "no region", argv: [], expect: "--region or CLOUDDROVE_CLUSTER_REGION" },
  ];
  for (const bad of badInputs) {
    it(`exits 2 with nothing run for ${bad.what}`, async () => {
      aws = fakeAws(bad.aws);
      const eksctl = fakeEksctl();
      const cwd = tempDir();
      const run = await runCli(["cluster", "create", ...bad.argv], { env: cleanEnv(eksctl.env), cwd });
      expect(run.stderr).toContain(bad.expect);
      expect(run.code).toBe(2);
      expect(eksctl.calls()).toEqual([]);
      expect(aws.state.fileSystems).toEqual([]);
    });
  }

  it("exits 4 without AWS credentials, before eksctl runs", async () => {
    aws = fakeAws({ noCredentials: true });
    const eksctl = fakeEksctl();
    const run = await runCli(["cluster", "create", "--region", "eu-west-1"], { env: cleanEnv(eksctl.env) });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("No AWS credentials were found while checking the AWS credentials.");
    expect(run.stderr).toContain("Hint: Configure credentials");
    expect(eksctl.calls()).toEqual([]);
  });

  it("exits 2 with an install hint when eksctl is not on PATH", async () => {
    aws = fakeAws();
    const run = await runCli(["cluster", "create", "--region", "eu-west-1"], {
      env: cleanEnv({ PATH: "/usr/bin:/bin" }),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("eksctl is not installed (not found on PATH).");
    expect(run.stderr).toContain("https://eksctl.io/installation/");
  });

  it("exits 2 when eksctl is too old", async () => {
    aws = fakeAws();
    const eksctl = fakeEksctl({ FAKE_EKSCTL_VERSION: "0.147.0" });
    const run = await runCli(["cluster", "create", "--region", "eu-west-1"], { env: cleanEnv(eksctl.env) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("eksctl 0.147.0 is too old; clouddrove needs 0.190.0 or newer.");
    expect(eksctl.calls().map((c) => c.argv)).toEqual([["version"]]);
  });
});

describe("cluster create: the backup bucket", () => {
  it("refuses a bucket name another account holds with exit 2 before eksctl runs", async () => {
    aws = fakeAws({ foreignBuckets: ["taken-name"] });
    const eksctl = fakeEksctl();
    const cwd = tempDir();
    const run = await runCli(
      ["cluster", "create", "--region", "eu-west-1", "--backup-bucket", "taken-name"],
      {
        env: cleanEnv(eksctl.env),
        cwd,
      },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("The S3 bucket name taken-name is taken by another AWS account");
    expect(run.stderr).toContain("--backup-bucket NAME");
    // Nothing was created: eksctl was only asked its version, no file system, no role, no config file.
    expect(eksctl.calls().map((c) => c.argv)).toEqual([["version"]]);
    expect(aws.state.fileSystems).toEqual([]);
    expect(aws.backup.roles).toEqual({});
    expect(existsSync(join(cwd, "clouddrove.yaml"))).toBe(false);
  });

  it("with --backup-setup manual makes no bucket and no role, and the plan says why", async () => {
    aws = fakeAws();
    const eksctl = fakeEksctl();
    const dry = await runCli(
      ["cluster", "create", "--region", "eu-west-1", "--backup-setup", "manual", "--dry-run"],
      {
        env: cleanEnv(eksctl.env),
      },
    );
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("  - backups: nothing is made (backup.setup is manual)");
    const plain = await runCli(["cluster", "create", "--region", "eu-west-1", "--dry-run"], {
      env: cleanEnv(eksctl.env),
    });
    expect(plain.stdout).toContain(
      "  - S3 bucket clouddrove-backup-123456789012-eu-west-1-clouddrove in eu-west-1 for backups",
    );
    expect(plain.stdout).toContain("  - IAM role clouddrove-backup-eu-west-1-clouddrove for the backup job");
    expect(aws.backup.buckets).toEqual({});
  });
});

describe("cluster create: running eksctl", () => {
  it("passes the rendered file and flags, streams eksctl's log into the task list, and turns its failure into a hint", async () => {
    aws = fakeAws({
      region: "us-east-1",
      zones: ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"],
    });
    const eksctl = fakeEksctl({
      FAKE_EKSCTL_FAIL: "unsupported-az",
      FAKE_EKSCTL_BAD_ZONE: "us-east-1e",
      FAKE_EKSCTL_ACCEPTED_ZONES: "us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f",
    });
    const cwd = tempDir();
    const kubeconfig = join(tempDir(), "kubeconfig");
    const run = await runCli(
      [
        "--kubeconfig",
        kubeconfig,
        "cluster",
        "create",
        "--region",
        "us-east-1",
        "--zones",
        "us-east-1a,us-east-1e,us-east-1f",
        "--cluster-name",
        "prod",
      ],
      { env: cleanEnv(eksctl.env), cwd },
    );
    expect(run.code).toBe(1);

    const calls = eksctl.calls();
    expect(calls.map((c) => c.argv.slice(0, 3))).toEqual([["version"], ["create", "cluster", "-f"]]);
    const create = calls[1];
    const file = create?.argv[3] as string;
    expect(create?.argv).toEqual(["create", "cluster", "-f", file, "--kubeconfig", kubeconfig]);
    const handed = parse(create?.files[file] as string);
    expect(handed.metadata.name).toBe("prod");
    expect(handed.availabilityZones).toEqual(["us-east-1a", "us-east-1e", "us-east-1f"]);

    // eksctl's lines reached the task list (verbose renderer without a terminal), levels marked apart.
    expect(run.stderr).toContain('[ℹ] building cluster stack "eksctl-prod-cluster"');
    expect(run.stderr).toContain("[!] 1 error(s) occurred and cluster hasn't been created properly");
    expect(run.stderr).toContain("[✖] ResourceNotReady: failed waiting for successful resource state");
    expect(run.stderr).toContain(
      "Error: EKS has no capacity for the control plane in one of the chosen zones.",
    );
    expect(run.stderr).toContain("Hint: Run again with --zones us-east-1a,us-east-1f,us-east-1b.");
    expect(run.stdout).toBe("");
    expect(aws.state.fileSystems).toEqual([]);
  });

  it("stops eksctl at the --eksctl-timeout and says how to go on", async () => {
    aws = fakeAws();
    const eksctl = fakeEksctl({ FAKE_EKSCTL_HANG: "30" });
    const run = await runCli(["cluster", "create", "--region", "eu-west-1", "--eksctl-timeout", "1s"], {
      env: cleanEnv(eksctl.env),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("did not finish within 1s");
    expect(run.stderr).toContain("Raise --eksctl-timeout");
  });
});

describe("cluster create: Ctrl-C", () => {
  it("stops eksctl and exits 130 without running the next steps", async () => {
    aws = fakeAws();
    const eksctl = fakeEksctl({ FAKE_EKSCTL_HANG: "60" });
    let stderr = "";
    const sink = (write: (text: string) => void) =>
      new Writable({
        write(chunk, _encoding, done) {
          write(String(chunk));
          done();
        },
      });
    const controller = new AbortController();
    const stdin = new PassThrough();
    stdin.end();
    const exit = main(["cluster", "create", "--region", "eu-west-1"], {
      stdin,
      stdout: sink(() => {}),
      stderr: sink((text) => {
        stderr += text;
      }),
      env: cleanEnv(eksctl.env),
      cwd: tempDir(),
      stdinIsTTY: false,
      stderrIsTTY: false,
      signal: controller.signal,
    });
    // Press Ctrl-C once eksctl is running.
    while (!eksctl.calls().some((c) => c.argv[0] === "create")) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    expect(await exit).toBe(130);
    expect(stderr).toContain("Interrupted while running `eksctl create cluster -f");
    expect(stderr).toContain("run the same clouddrove command again to reconcile");
    expect(aws.state.fileSystems).toEqual([]);
  });
});

describe("cluster create: the Kubernetes version and what its support costs", () => {
  it("gives a new cluster the version EKS names as its default, not one of its own", async () => {
    aws = fakeAws({ versions: ["1.34", "1.35", "1.36"] });
    const eksctl = fakeEksctl();
    const run = await runCli(["cluster", "create", "--region", "eu-west-1", "--dry-run", "-o", "yaml"], {
      env: cleanEnv(eksctl.env),
    });
    expect(run.code).toBe(0);
    expect(parse(run.stdout).metadata.version).toBe("1.35");
  });

  it("refuses a version in extended support without --yes, naming the cost, and creates nothing", async () => {
    aws = fakeAws({ versions: ["1.33", "1.34", "1.35", "1.36"], extended: ["1.33", "1.34"] });
    const eksctl = fakeEksctl();
    const argv = ["cluster", "create", "--region", "eu-west-1", "--kubernetes-version", "1.33"];
    const run = await runCli(argv, { env: cleanEnv(eksctl.env) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "Kubernetes 1.33 is in EKS extended support: EKS bills $0.60 per cluster-hour in extended support instead of $0.10, about $365 a month more per cluster.",
    );
    expect(run.stderr).toContain("--kubernetes-version 1.35, EKS's default");
    expect(run.stderr).toContain("or pass --yes to accept the cost");
    expect(eksctl.calls().filter((c) => c.argv[0] !== "version")).toEqual([]);
    expect(aws.state.fileSystems).toEqual([]);

    // --yes accepts it: eksctl is handed that version.
    const accepted = await runCli([...argv, "--yes"], { env: cleanEnv(eksctl.env) });
    const create = eksctl.calls().find((c) => c.argv[0] === "create");
    expect(create, accepted.stderr).toBeDefined();
    expect(parse(create?.files[create.argv[3] as string] as string).metadata.version).toBe("1.33");
  });

  it("at a terminal labels extended support with its price and asks again before creating, no by default", async () => {
    aws = fakeAws({ versions: ["1.33", "1.34", "1.35", "1.36"], extended: ["1.33"] });
    const eksctl = fakeEksctl();
    const prompter = new ScriptedPrompter(["", "", "", "1.33", false]);
    const run = await runCli(["cluster", "create"], {
      env: cleanEnv({ ...eksctl.env, AWS_REGION: "eu-west-1" }),
      tty: true,
      prompter,
    });
    expect(run.code).toBe(0);
    const version = prompter.asked.find((q) => q.message === "Kubernetes version");
    expect(version?.default).toBe("1.35");
    expect(version?.labels).toEqual([
      "1.36",
      "1.35 (EKS default)",
      "1.34",
      "1.33 (extended support: $0.60/cluster-hour)",
    ]);
    const confirm = prompter.asked.at(-1);
    expect([confirm?.kind, confirm?.message, confirm?.default]).toEqual([
      "confirm",
      "Create it in extended support?",
      false,
    ]);
    expect(run.stderr).toContain("about $365 a month more per cluster");
    expect(run.stderr).toContain("Nothing was created.");
    expect(eksctl.calls().filter((c) => c.argv[0] !== "version")).toEqual([]);
  });
});

describe("cluster create at a terminal", () => {
  it("asks region, name, zones and version with defaults offered, then shows the dry run", async () => {
    aws = fakeAws({ region: "eu-central-1", zones: ["eu-central-1a", "eu-central-1b", "eu-central-1c"] });
    const eksctl = fakeEksctl();
    const prompter = new ScriptedPrompter([
      "eu-central", // region: rejected
      "eu-central-1", // region
      "", // name: default
      "eu-central-1a,eu-central-1b", // zones: rejected (two)
      "", // zones: default (the region's first three)
      "1.32", // version
    ]);
    const run = await runCli(["cluster", "create", "--dry-run"], {
      env: cleanEnv({ ...eksctl.env, AWS_REGION: "eu-west-1" }),
      tty: true,
      prompter,
    });
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    expect(prompter.asked.map((q) => [q.message, q.default])).toEqual([
      ["AWS region of the cluster", "eu-west-1"],
      ["EKS cluster name", "clouddrove"],
      [
        "Three availability zones (eu-central-1 offers eu-central-1a, eu-central-1b, eu-central-1c)",
        "eu-central-1a,eu-central-1b,eu-central-1c",
      ],
      ["Kubernetes version", "1.33"],
    ]);
    expect(prompter.asked[0]?.rejected).toEqual([
      "Expected an AWS region code such as us-east-1 or eu-west-2.",
    ]);
    expect(prompter.asked[2]?.rejected).toEqual(["Name exactly three distinct zones."]);
    expect(prompter.asked[3]?.choices).toEqual(["1.34", "1.33", "1.32", "1.31"]);
    expect(run.stdout).toContain('version: "1.32"');
    expect(run.stdout).toContain("availabilityZones: [eu-central-1a, eu-central-1b, eu-central-1c]");
    expect(eksctl.calls()).toEqual([]);
  });

  it("does not ask what flags gave, and creates nothing when the plan is declined", async () => {
    aws = fakeAws();
    const eksctl = fakeEksctl();
    const prompter = new ScriptedPrompter([false]);
    const cwd = tempDir();
    const run = await runCli(
      [
        "cluster",
        "create",
        "--region",
        "eu-west-1",
        "--cluster-name",
        "c1",
        "--zones",
        "eu-west-1a,eu-west-1b,eu-west-1c",
        "--kubernetes-version",
        "1.33",
      ],
      { env: cleanEnv(eksctl.env), tty: true, prompter, cwd },
    );
    expect(run.code).toBe(0);
    expect(prompter.asked.map((q) => q.kind)).toEqual(["confirm"]);
    expect(run.stderr).toContain("Create EKS cluster c1 (Kubernetes 1.33) in eu-west-1");
    expect(run.stderr).toContain("Nothing was created.");
    expect(eksctl.calls().map((c) => c.argv)).toEqual([["version"]]);
    expect(() => readFileSync(join(cwd, "clouddrove.yaml"))).toThrow();
  });
});
