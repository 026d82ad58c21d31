/**
 * Retention as an S3 lifecycle rule against moto's S3 (scripts/components.sh moto): the adapter's reads
 * and writes of a bucket's lifecycle configuration, and deploy's retention step (created, unchanged,
 * replaced, dry run, a rule that expires the same prefix sooner), checked by reading back what the
 * emulator stored. What moto cannot produce (access denied, missing credentials, a store without the
 * lifecycle API) stays faked at the client in test/unit/backup-lifecycle.test.ts and
 * backup-retention-step.test.ts.
 */
import {
  CreateBucketCommand,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { silenceSdkNodeVersionWarning } from "../../src/adapters/aws/node-warning.js";
import { openBackupBucket } from "../../src/adapters/s3.js";
import { resolveConfig } from "../../src/config/resolve.js";
import { type LifecycleRule, retentionRule } from "../../src/core/backup/lifecycle.js";
import { type MotoServer, startMoto } from "../support/moto.js";
import { logsRule, runRetentionStep } from "../support/s3-lifecycle-fixtures.js";

const BUCKET = "acme-backups";
const REGION = "eu-west-1";
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
const config = (...set: string[]) =>
  resolveConfig({ set: [`backup.bucket=${BUCKET}`, `backup.region=${REGION}`, ...set] }).config;

let moto: MotoServer;
let s3: S3Client;
const target = () => ({
  bucket: BUCKET,
  prefix: "clouddrove/",
  region: REGION,
  endpoint: moto.endpoint,
  credentials,
});

/** The bucket's rules as moto stored them ([] without a lifecycle configuration). */
async function storedRules(): Promise<LifecycleRule[]> {
  try {
    const answer = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: BUCKET }));
    return (answer.Rules ?? []) as LifecycleRule[];
  } catch (error) {
    if ((error as Error).name === "NoSuchLifecycleConfiguration") return [];
    throw error;
  }
}

const storeRules = (rules: LifecycleRule[]) =>
  s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: BUCKET,
      LifecycleConfiguration: { Rules: rules as never },
    }),
  );

const runStep = (options: { dryRun?: boolean; set?: string[] } = {}) =>
  runRetentionStep(config(...(options.set ?? [])), target(), options.dryRun);

beforeAll(async () => {
  silenceSdkNodeVersionWarning();
  moto = await startMoto(REGION);
  s3 = new S3Client({ region: REGION, endpoint: moto.endpoint, forcePathStyle: true, credentials });
  await s3.send(
    new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
});
afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});
beforeEach(() => s3.send(new DeleteBucketLifecycleCommand({ Bucket: BUCKET })));

describe("the S3 adapter's lifecycle calls on moto", () => {
  it("reads the existing rules and writes them back with ours merged in", async () => {
    await storeRules([logsRule()]);
    const bucket = await openBackupBucket(target());
    expect(await bucket.getLifecycleRules()).toEqual([logsRule()]);
    const ours = retentionRule(config());
    expect(await bucket.putLifecycleRule(ours)).toEqual([logsRule(), ours]);
    expect(await storedRules()).toEqual([logsRule(), ours]);
    bucket.close();
  });

  it("takes a bucket without lifecycle configuration (NoSuchLifecycleConfiguration) as having no rules", async () => {
    const bucket = await openBackupBucket(target());
    expect(await bucket.getLifecycleRules()).toEqual([]);
    const ours = retentionRule(config());
    expect(await bucket.putLifecycleRule(ours)).toEqual([ours]);
    expect(await storedRules()).toEqual([ours]);
    bucket.close();
  });
});

describe("the retention step on moto", () => {
  it("creates the rule on a bucket without lifecycle configuration", async () => {
    const { outcome, title } = await runStep();
    expect(outcome).toMatchObject({
      action: "created",
      abortIncompleteUploadDays: 2,
      ruleId: "clouddrove-backup-retention",
    });
    expect(title).toContain("created (unfinished uploads aborted; snapshots are pruned by each backup run)");
    expect(await storedRules()).toEqual([retentionRule(config())]);
  });

  it("writes nothing when the rule is already there as it would write it (a second deploy)", async () => {
    await runStep();
    const { outcome } = await runStep();
    expect(outcome?.action).toBe("unchanged");
    expect(await storedRules()).toEqual([retentionRule(config())]);
  });

  it("replaces an earlier clouddrove's rule (which expired the prefix) and keeps the bucket's other rules", async () => {
    await storeRules([logsRule(), { ...retentionRule(config()), Expiration: { Days: 30 } }]);
    const { outcome } = await runStep();
    expect(outcome?.action).toBe("configured");
    expect((await storedRules()).map((r) => [r.ID, r.Expiration?.Days])).toEqual([
      ["logs", 3],
      ["clouddrove-backup-retention", undefined],
    ]);
  });

  it("a dry run reads the rules and writes nothing", async () => {
    const { outcome, title } = await runStep({ dryRun: true });
    expect(outcome).toMatchObject({ action: "created", dryRun: true });
    expect(title).toContain("would be created");
    expect(await storedRules()).toEqual([]);
  });

  it("warns about another rule that expires the same prefix sooner", async () => {
    const everything: LifecycleRule = {
      ID: "all",
      Status: "Enabled",
      Filter: { Prefix: "" },
      Expiration: { Days: 1 },
    };
    await storeRules([everything]);
    const { warnings, outcome } = await runStep();
    expect(outcome?.overlapping).toEqual(["all"]);
    expect(warnings[0]).toContain(
      "the lifecycle rule all on s3://acme-backups also expires objects under clouddrove/: it would delete blobs that snapshots still reference",
    );
    expect((await storedRules()).map((r) => r.ID)).toEqual(["all", "clouddrove-backup-retention"]);
  });
});
