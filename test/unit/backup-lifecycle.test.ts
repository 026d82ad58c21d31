/**
 * Retention as an S3 lifecycle rule: the rule itself, the merge that keeps a bucket's other rules, and
 * the adapter's error mapping. The adapter's lifecycle calls run against moto in
 * test/integration/s3-lifecycle-moto.test.ts; only an access-denied answer is faked here at the client
 * (aws-sdk-client-mock): moto's server grants every request unless its IAM checks are switched on for
 * the whole server, which no other test of it wants.
 */
import { GetBucketLifecycleConfigurationCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { openBackupBucket, s3Error } from "../../src/adapters/s3.js";
import { resolveConfig } from "../../src/config/resolve.js";
import {
  type LifecycleRule,
  mergeLifecycleRules,
  overlappingRules,
  RETENTION_RULE_ID,
  retentionRule,
} from "../../src/core/backup/lifecycle.js";
import { CredentialsError, ExitCode, OperationError, UsageError } from "../../src/errors.js";
import { logsRule, s3ServiceError } from "../support/s3-lifecycle-fixtures.js";

const config = (...set: string[]) => resolveConfig({ set: ["backup.bucket=acme-backups", ...set] }).config;

const serviceError = (name: string) => s3ServiceError(name, 403);

describe("retentionRule", () => {
  it("aborts stale multipart uploads under the prefix and expires nothing current, whatever the retention", () => {
    const rule = retentionRule(config("backup.retentionDays=14", "backup.prefix=registry/prod/"));
    // Blobs are uploaded once and referenced by every later snapshot: S3 must not expire them by age.
    expect(rule).toEqual({
      ID: RETENTION_RULE_ID,
      Status: "Enabled",
      Filter: { Prefix: "registry/prod/" },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
      NoncurrentVersionExpiration: { NoncurrentDays: 7 },
    });
    expect(retentionRule(config())).toEqual({ ...rule, Filter: { Prefix: "clouddrove/" } });
  });

  it("accepts 1-7 days for aborting uploads and refuses anything else", () => {
    expect(retentionRule(config(), { abortIncompleteUploadDays: 7 }).AbortIncompleteMultipartUpload).toEqual({
      DaysAfterInitiation: 7,
    });
    for (const days of [0, 8, 1.5]) {
      expect(() => retentionRule(config(), { abortIncompleteUploadDays: days })).toThrow(UsageError);
    }
  });
});

describe("mergeLifecycleRules", () => {
  const logs = logsRule();

  it("keeps the bucket's other rules and replaces an earlier version of ours", () => {
    // The rule an earlier clouddrove wrote expired everything under the prefix.
    const old = { ...retentionRule(config()), Expiration: { Days: 90 } };
    const ours = retentionRule(config());
    const merged = mergeLifecycleRules([logs, old], ours);
    expect(merged).toEqual([logs, ours]);
  });

  it("adds ours to an empty configuration", () => {
    const ours = retentionRule(config());
    expect(mergeLifecycleRules([], ours)).toEqual([ours]);
  });

  it("names other rules that would expire objects under our prefix", () => {
    const ours = retentionRule(config());
    const everything: LifecycleRule = {
      ID: "all",
      Status: "Enabled",
      Filter: { Prefix: "" },
      Expiration: { Days: 1 },
    };
    const disabled: LifecycleRule = { ...everything, ID: "off", Status: "Disabled" };
    expect(overlappingRules([logs, everything, disabled, ours], ours).map((r) => r.ID)).toEqual(["all"]);
  });
});

describe("the S3 adapter's lifecycle calls (faked: an answer moto does not give)", () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());
  const target = { bucket: "acme-backups", prefix: "clouddrove", region: "eu-west-1" };

  it("maps access denied to a credentials error (exit 4) that names the permissions", async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(serviceError("AccessDenied"));
    const bucket = await openBackupBucket(target);
    const error = await bucket.getLifecycleRules().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect((error as CredentialsError).exitCode).toBe(ExitCode.credentials);
    expect((error as CredentialsError).hint).toContain("s3:PutLifecycleConfiguration");
    bucket.close();
  });
});

describe("s3Error", () => {
  const target = { bucket: "acme-backups", prefix: "clouddrove/" };

  it.each([
    ["NoSuchBucket", UsageError, /backup\.bucket/],
    ["NoSuchKey", UsageError, /backup list/],
    ["CredentialsProviderError", CredentialsError, /AWS_PROFILE/],
    ["PermanentRedirect", UsageError, /backup\.region/],
    ["InternalError", OperationError, /Retry/],
  ])("%s becomes a %o with a hint", (name, type, hint) => {
    const error = s3Error(serviceError(name), "read something", target);
    expect(error).toBeInstanceOf(type);
    expect(error.hint).toMatch(hint);
  });

  it("an unreachable endpoint is a credentials/unreachable error naming the endpoint", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const error = s3Error(refused, "list", { ...target, endpoint: "http://127.0.0.1:9" });
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error.hint).toContain("http://127.0.0.1:9");
  });
});
