/**
 * deploy's retention step explains its failures (no credentials: exit 4; a store without the lifecycle
 * API) with the flag that skips it. What it writes (created, unchanged, replaced, dry run, overlapping
 * rules) is tested against moto in test/integration/s3-lifecycle-moto.test.ts. These two answers are
 * faked at the client (aws-sdk-client-mock) because moto cannot give them: missing credentials is the
 * SDK's own error before any request, and moto implements the lifecycle API (a 501 NotImplemented is
 * what an S3-compatible store without it, such as s3rver, answers).
 */
import { GetBucketLifecycleConfigurationCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import { type LifecycleRule, retentionRule } from "../../src/core/backup/lifecycle.js";
import { ExitCode, OperationError } from "../../src/errors.js";
import { retentionAction } from "../../src/steps/backup/retention.js";
import { runRetentionStep, s3ServiceError } from "../support/s3-lifecycle-fixtures.js";

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const config = (...set: string[]) =>
  resolveConfig({ set: ["backup.bucket=acme-backups", "backup.region=eu-west-1", ...set] }).config;
const target = { bucket: "acme-backups", prefix: "clouddrove/", region: "eu-west-1" };

const runStep = () => runRetentionStep(config(), target);

describe("the retention step", () => {
  it("missing AWS credentials: exit 4, nothing changed, and the flag that skips the step", async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(
      Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      }),
    );
    const error = (await runStep().catch((e: unknown) => e)) as OperationError;
    expect(error.exitCode).toBe(ExitCode.credentials);
    expect(error.message).toContain("nothing was changed");
    expect(error.hint).toContain("--no-retention-rule");
    expect(error.hint).toContain("AWS_PROFILE");
  });

  it("a store without the lifecycle API: exit 1 naming --no-retention-rule", async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(s3ServiceError("NotImplemented", 501));
    const error = (await runStep().catch((e: unknown) => e)) as OperationError;
    expect(error).toBeInstanceOf(OperationError);
    expect(error.message).toContain("does not implement lifecycle rules");
    expect(error.hint).toContain("--no-retention-rule");
  });
});

describe("retentionAction", () => {
  it("compares rules by content, whatever the order of keys", () => {
    const ours = retentionRule(config());
    const reordered = Object.fromEntries(Object.entries(ours).reverse()) as LifecycleRule;
    expect(retentionAction([reordered], ours)).toBe("unchanged");
    expect(retentionAction([], ours)).toBe("created");
    expect(retentionAction([{ ...ours, Expiration: { Days: 1 } }], ours)).toBe("configured");
  });
});
