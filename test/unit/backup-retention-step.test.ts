/**
 * deploy's retention step: it writes the rule only when it differs from the bucket's, keeps other rules,
 * writes nothing in a dry run, warns about other rules that expire the same prefix, and explains the
 * failures (no credentials: exit 4; a store without the lifecycle API) with the flag that skips it.
 * The AWS SDK is faked with aws-sdk-client-mock: s3rver has no lifecycle API and there is no AWS here.
 */
import {
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import type { RetentionOutcome } from "../../src/core/backup/deploy-notes.js";
import { type LifecycleRule, retentionRule } from "../../src/core/backup/lifecycle.js";
import { ExitCode, OperationError } from "../../src/errors.js";
import { retentionAction, retentionRuleStep } from "../../src/steps/backup/retention.js";
import { logsRule, s3ServiceError } from "../support/s3-lifecycle-fixtures.js";

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const config = (...set: string[]) =>
  resolveConfig({ set: ["backup.bucket=acme-backups", "backup.region=eu-west-1", ...set] }).config;
const target = { bucket: "acme-backups", prefix: "clouddrove/", region: "eu-west-1" };

async function runStep(options: { dryRun?: boolean; set?: string[] } = {}) {
  const outcome: { value?: RetentionOutcome } = {};
  const warnings: string[] = [];
  const step = retentionRuleStep<object>({
    config: config(...(options.set ?? [])),
    target,
    dryRun: options.dryRun ?? false,
    outcome,
    warnings,
  });
  const task = { title: String(step.title), output: "" };
  await (step.task as (ctx: object, task: unknown) => Promise<void>)({}, task);
  return { outcome: outcome.value, warnings, title: task.title };
}

const logs = logsRule();

describe("the retention step", () => {
  it("creates the rule on a bucket without lifecycle configuration", async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(
      s3ServiceError("NoSuchLifecycleConfiguration", 404),
    );
    s3.on(PutBucketLifecycleConfigurationCommand).resolves({});
    const { outcome, title } = await runStep();
    expect(outcome).toMatchObject({
      action: "created",
      abortIncompleteUploadDays: 2,
      ruleId: "clouddrove-backup-retention",
    });
    expect(title).toContain("created (unfinished uploads aborted; snapshots are pruned by each backup run)");
    const put = s3.commandCalls(PutBucketLifecycleConfigurationCommand)[0]?.args[0].input;
    expect(put?.LifecycleConfiguration?.Rules).toEqual([retentionRule(config())]);
  });

  it("writes nothing when the rule is already there as it would write it (a second deploy)", async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).resolves({
      Rules: [logs, retentionRule(config())] as never,
    });
    const { outcome } = await runStep();
    expect(outcome?.action).toBe("unchanged");
    expect(s3.commandCalls(PutBucketLifecycleConfigurationCommand)).toHaveLength(0);
  });

  it("replaces an earlier clouddrove's rule (which expired the prefix) and keeps the bucket's other rules", async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).resolves({
      Rules: [logs, { ...retentionRule(config()), Expiration: { Days: 30 } }] as never,
    });
    s3.on(PutBucketLifecycleConfigurationCommand).resolves({});
    const { outcome } = await runStep();
    expect(outcome?.action).toBe("configured");
    const rules = s3.commandCalls(PutBucketLifecycleConfigurationCommand)[0]?.args[0].input
      .LifecycleConfiguration?.Rules as LifecycleRule[];
    expect(rules.map((r) => [r.ID, r.Expiration?.Days])).toEqual([
      ["logs", 3],
      ["clouddrove-backup-retention", undefined],
    ]);
  });

  it("a dry run reads the rules and writes nothing", async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).resolves({ Rules: [] });
    const { outcome, title } = await runStep({ dryRun: true });
    expect(outcome).toMatchObject({ action: "created", dryRun: true });
    expect(title).toContain("would be created");
    expect(s3.commandCalls(PutBucketLifecycleConfigurationCommand)).toHaveLength(0);
  });

  it("warns about another rule that expires the same prefix sooner", async () => {
    const everything: LifecycleRule = {
      ID: "all",
      Status: "Enabled",
      Filter: { Prefix: "" },
      Expiration: { Days: 1 },
    };
    s3.on(GetBucketLifecycleConfigurationCommand).resolves({ Rules: [everything] as never });
    s3.on(PutBucketLifecycleConfigurationCommand).resolves({});
    const { warnings, outcome } = await runStep();
    expect(outcome?.overlapping).toEqual(["all"]);
    expect(warnings[0]).toContain(
      "the lifecycle rule all on s3://acme-backups also expires objects under clouddrove/: it would delete blobs that snapshots still reference",
    );
  });

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
