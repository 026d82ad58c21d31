/**
 * What `cluster create` makes for backups, decided without AWS (core/backup/provision.ts): the bucket's
 * default name within S3's rules, when a bucket and a role are made at all, the TLS-only statement merged
 * into a policy of others, the role's documents, and what cluster delete says of the bucket. Also the
 * CreateBucket request itself (adapters/aws/s3-bucket.ts): no LocationConstraint in us-east-1.
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { createBucket } from "../../src/adapters/aws/s3-bucket.js";
import {
  backupRoleName,
  backupSetupLines,
  backupSetupPlan,
  defaultBucketName,
  keptBackupLines,
  mergeBucketPolicy,
  roleArn,
  TLS_ONLY_SID,
} from "../../src/core/backup/provision.js";
import { configWith } from "../support/render-fixtures.js";

const S3_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

describe("the default bucket name", () => {
  it("carries the account, region and cluster, as S3 allows", () => {
    expect(defaultBucketName("123456789012", "eu-west-1", "clouddrove")).toBe(
      "clouddrove-backup-123456789012-eu-west-1-clouddrove",
    );
    // Cluster names may hold capitals and underscores; bucket names may not.
    const mixed = defaultBucketName("123456789012", "eu-west-1", "Prod_Registry");
    expect(mixed).toBe("clouddrove-backup-123456789012-eu-west-1-prod-registry");
    expect(mixed).toMatch(S3_NAME);
  });

  it("stays within 63 characters, and two long names that share a beginning still differ", () => {
    const a = defaultBucketName("123456789012", "ap-southeast-2", "registry-for-the-platform-team-a");
    const b = defaultBucketName("123456789012", "ap-southeast-2", "registry-for-the-platform-team-b");
    for (const name of [a, b]) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(S3_NAME);
      expect(name.startsWith("clouddrove-backup-123456789012-ap-southeast-2-registry")).toBe(true);
    }
    expect(a).not.toBe(b);
  });

  it("the role's name fits IAM's 64 characters and its ARN names the region's partition", () => {
    expect(backupRoleName("clouddrove", "eu-west-1")).toBe("clouddrove-backup-eu-west-1-clouddrove");
    expect(backupRoleName("x".repeat(100), "eu-west-1").length).toBeLessThanOrEqual(64);
    expect(roleArn("123456789012", "cn-north-1", "r")).toBe("arn:aws-cn:iam::123456789012:role/r");
  });
});

describe("what cluster create makes for backups", () => {
  const account = "123456789012";
  const plan = (...set: string[]) => backupSetupPlan(configWith("cluster.region=eu-west-1", ...set), account);

  it("by default: the bucket with a derived name and the IRSA role for the namespace's ServiceAccount", () => {
    expect(plan("namespace=registry")).toEqual({
      make: true,
      bucket: "clouddrove-backup-123456789012-eu-west-1-clouddrove",
      named: false,
      region: "eu-west-1",
      prefix: "clouddrove/",
      namespace: "registry",
      account,
      role: {
        name: "clouddrove-backup-eu-west-1-clouddrove",
        arn: "arn:aws:iam::123456789012:role/clouddrove-backup-eu-west-1-clouddrove",
      },
    });
  });

  it("a bucket the user named wins, made in backup.region; the role's ARN recorded by a run is ours", () => {
    const ours = "arn:aws:iam::123456789012:role/clouddrove-backup-eu-west-1-clouddrove";
    expect(
      plan("backup.bucket=team-backups", "backup.region=eu-central-1", `backup.roleArn=${ours}`),
    ).toMatchObject({
      bucket: "team-backups",
      named: true,
      region: "eu-central-1",
      role: { arn: ours },
    });
  });

  it("makes no role for another role the user gave, for static keys, or for Pod Identity (and says so)", () => {
    const other = plan("backup.roleArn=arn:aws:iam::123456789012:role/their-own");
    expect(other).toMatchObject({ make: true });
    expect(other).not.toHaveProperty("role");
    expect(plan("backup.credentials=secret")).not.toHaveProperty("role");
    const pod = plan("backup.credentials=pod-identity", "namespace=registry");
    expect(pod).not.toHaveProperty("role");
    expect(pod).toMatchObject({ roleNote: expect.stringContaining("registry/registry-clouddrove-backup") });
  });

  it("makes nothing with backup.setup manual or an S3-compatible endpoint, and the plan says why", () => {
    expect(plan("backup.setup=manual")).toEqual({ make: false, reason: "backup.setup is manual" });
    const endpoint = plan("backup.endpoint=https://minio.example.com:9000");
    expect(endpoint).toMatchObject({ make: false, reason: expect.stringContaining("S3-compatible server") });
    expect(backupSetupLines(endpoint, "clouddrove.yaml")).toEqual([
      expect.stringContaining("backups: nothing is made (backup.endpoint names"),
    ]);
    const lines = backupSetupLines(plan(), "/work/clouddrove.yaml");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain("S3 bucket clouddrove-backup-123456789012-eu-west-1-clouddrove in eu-west-1");
    expect(lines[0]).toContain("--backup-bucket chooses another");
    expect(lines[2]).toBe("  - record backup.bucket and backup.roleArn in /work/clouddrove.yaml");
  });
});

describe("the bucket policy", () => {
  it("adds the TLS-only statement to others' statements, replaces an old one of ours, and writes nothing when it is there", () => {
    const theirs = {
      Sid: "AuditorsRead",
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::1:root" },
      Action: "s3:GetObject",
      Resource: "arn:aws:s3:::b/*",
    };
    const stale = {
      Sid: TLS_ONLY_SID,
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: "arn:aws:s3:::b",
    };
    const merged = mergeBucketPolicy(
      JSON.stringify({ Version: "2012-10-17", Statement: [theirs, stale] }),
      "b",
      "eu-west-1",
    );
    expect(merged?.Statement).toEqual([
      theirs,
      {
        Sid: TLS_ONLY_SID,
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
    expect(mergeBucketPolicy(JSON.stringify(merged), "b", "eu-west-1")).toBeUndefined();
    expect(mergeBucketPolicy(undefined, "b", "us-gov-west-1")?.Statement[0]?.Resource).toEqual([
      "arn:aws-us-gov:s3:::b",
      "arn:aws-us-gov:s3:::b/*",
    ]);
  });
});

describe("cluster delete keeps the bucket", () => {
  it("names the bucket and the role with the commands that delete them by hand", () => {
    expect(keptBackupLines(undefined, undefined)).toEqual([]);
    const lines = keptBackupLines("b", "arn:aws:iam::1:role/clouddrove-backup-eu-west-1-x");
    expect(lines[0]).toContain("aws s3 rb s3://b --force");
    expect(lines[1]).toContain(
      "aws iam delete-role-policy --role-name clouddrove-backup-eu-west-1-x --policy-name clouddrove-backup-bucket && aws iam delete-role --role-name clouddrove-backup-eu-west-1-x",
    );
  });
});

describe("CreateBucket", () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());

  it("names the region as LocationConstraint, except us-east-1, S3's default, which refuses it", async () => {
    s3.on(CreateBucketCommand).resolves({});
    const client = new S3Client({ region: "eu-west-1" });
    expect(await createBucket(client, "b", "eu-west-1")).toBe("created");
    expect(await createBucket(client, "c", "us-east-1")).toBe("created");
    const inputs = s3.commandCalls(CreateBucketCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([
      { Bucket: "b", CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } },
      { Bucket: "c" },
    ]);
  });

  it("a bucket of this account in another region is exit 2 naming --backup-region", async () => {
    const error = new Error(
      "The bucket you are attempting to access must be addressed using the specified endpoint.",
    );
    error.name = "PermanentRedirect";
    s3.on(CreateBucketCommand).rejects(error);
    await expect(
      createBucket(new S3Client({ region: "eu-west-1" }), "mine", "eu-west-1"),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining("The S3 bucket mine is in another region"),
      hint: expect.stringContaining("--backup-region"),
    });
  });

  it("an invalid name is exit 2 naming the rules", async () => {
    const error = new Error("The specified bucket is not valid.");
    error.name = "InvalidBucketName";
    s3.on(CreateBucketCommand).rejects(error);
    await expect(createBucket(new S3Client({ region: "eu-west-1" }), "B", "eu-west-1")).rejects.toMatchObject(
      {
        exitCode: 2,
        hint: expect.stringContaining("3-63 characters"),
      },
    );
  });
});
