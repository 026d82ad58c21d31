import { describe, expect, it } from "vitest";
import * as validators from "../../src/core/validators.js";

const v = { ...validators };

describe("setting checks", () => {
  it.each([
    ["clusterName", "prod-registry", true],
    ["clusterName", "1prod", false],
    ["clusterName", "prod_registry", false],
    ["clusterName", `a${"b".repeat(100)}`, false],
    ["awsRegion", "eu-west-1", true],
    ["awsRegion", "us-gov-west-1", true],
    ["awsRegion", "ap-southeast-4", true],
    ["awsRegion", "us-east", false],
    ["awsRegion", "useast1", false],
    ["availabilityZone", "eu-west-1a", true],
    ["availabilityZone", "eu-west-1", false],
    ["quantity", "50Gi", true],
    ["quantity", "250m", true],
    ["quantity", "1.5Gi", true],
    ["quantity", "50GB", false],
    ["quantity", "Gi", false],
    ["cidr", "10.0.0.0/8", true],
    ["cidr", "2001:db8::/32", true],
    ["cidr", "10.0.0.0/33", false],
    ["cidr", "10.0.0/8", false],
    ["cidr", "10.0.0.1", false],
    ["cronSchedule", "0 3 * * *", true],
    ["cronSchedule", "*/15 1-5 * JAN-MAR mon-fri", true],
    ["cronSchedule", "@daily", true],
    ["cronSchedule", "0 3 * *", false],
    ["cronSchedule", "0 3 * * * *", false],
    ["cronSchedule", "61 3 * * *", false],
    ["cronSchedule", "CRON_TZ=UTC 0 3 * * *", false],
    ["timeZone", "Europe/Berlin", true],
    ["timeZone", "Mars/Olympus", false],
    ["duration", "1h30m", true],
    ["duration", "10", false],
    ["kubernetesMinor", "1.33", true],
    ["kubernetesMinor", "1.3", false],
    ["efsFileSystemId", "fs-0123456789abcdef0", true],
    ["efsFileSystemId", "fs-xyz", false],
    ["iamRoleArn", "arn:aws:iam::123456789012:role/clouddrove-backup", true],
    ["iamRoleArn", "arn:aws:iam::12345:role/x", false],
    ["s3Bucket", "my-backups.example", true],
    ["s3Bucket", "My_Bucket", false],
    ["imageReference", "alpine:3.20.3", true],
    ["imageReference", "alpine", false],
  ] as const)("%s(%j) accepts: %s", (name, value, ok) => {
    const problem = (v[name] as validators.Check)(value);
    if (ok) expect(problem).toBeUndefined();
    else expect(problem).toMatch(/\w/);
  });

  it("explains the cron field count it found", () => {
    expect(v.cronSchedule("0 3 * *")).toContain("has 4");
  });

  it("parses durations to milliseconds", () => {
    expect(v.parseDurationMs("1h30m")).toBe(5_400_000);
    expect(v.parseDurationMs("90s")).toBe(90_000);
    expect(() => v.parseDurationMs("")).toThrow();
  });
});
