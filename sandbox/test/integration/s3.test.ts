/**
 * The sandbox's own S3, through the AWS SDK as any client reaches it (s3Environment): on 127.0.0.1,
 * buckets that exist on first use, objects (multipart too), ListObjectsV2, HEAD, DELETE, the bucket
 * configurations s3rver lacks (lifecycle, encryption, public access block, policy), CreateBucket again, keys that are checked, and data kept in the state directory across a restart.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { type Sandbox, s3Environment, startSandbox } from "../../src/index.js";
import { sandboxS3Client } from "../support/s3-client.js";

let dir: string;
let sandbox: Sandbox | undefined;

afterEach(async () => {
  await sandbox?.stop();
  sandbox = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const client = sandboxS3Client;

const text = async (body: unknown) => (body as { transformToString(): Promise<string> }).transformToString();

describe("the sandbox's S3", () => {
  it("serves S3 on 127.0.0.1 with a bucket that exists on first use, and keeps it in the state directory", async () => {
    dir = mkdtempSync(join(tmpdir(), "clouddrove-sandbox-s3-test-"));
    sandbox = await startSandbox({ controllers: false, stateDir: dir, region: "eu-central-1" });
    expect(sandbox.s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3Environment(sandbox)).toEqual({
      AWS_ENDPOINT_URL_S3: sandbox.s3.endpoint,
      AWS_ACCESS_KEY_ID: expect.any(String),
      AWS_SECRET_ACCESS_KEY: expect.any(String),
      AWS_REGION: "eu-central-1",
    });
    const s3 = client(sandbox);
    const Bucket = "my-registry-backups";
    await s3.send(new PutObjectCommand({ Bucket, Key: "clouddrove/a.tar", Body: "archive" }));

    // A multipart upload, as rclone rcat streams an archive (parts of at least 5 MiB but the last).
    const Key = "clouddrove/big.tar";
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const partBytes = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.from("tail")];
    const parts = [];
    for (const [index, Body] of partBytes.entries()) {
      const PartNumber = index + 1;
      const part = await s3.send(
        new UploadPartCommand({ Bucket, Key, UploadId: upload.UploadId, PartNumber, Body }),
      );
      parts.push({ PartNumber, ETag: part.ETag });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key }))).ContentLength).toBe(5 * 1024 * 1024 + 4);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "clouddrove/", Delimiter: "/" }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(["clouddrove/a.tar", "clouddrove/big.tar"]);
    await s3.send(new DeleteObjectCommand({ Bucket, Key }));

    // Another pair of keys is refused, by s3rver's own signature check.
    const stranger = client(sandbox, { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "nope" });
    await expect(
      stranger.send(new GetObjectCommand({ Bucket, Key: "clouddrove/a.tar" })),
    ).rejects.toMatchObject({ name: "InvalidAccessKeyId" });

    await sandbox.stop();
    sandbox = await startSandbox({ controllers: false, stateDir: dir });
    const again = client(sandbox);
    const object = await again.send(new GetObjectCommand({ Bucket, Key: "clouddrove/a.tar" }));
    expect(await text(object.Body)).toBe("archive");
    const after = await again.send(new ListObjectsV2Command({ Bucket, Prefix: "clouddrove/" }));
    expect(after.Contents?.map((o) => o.Key)).toEqual(["clouddrove/a.tar"]);
  });

  it("has the bucket lifecycle API: none at first, what was put, then none again; keys checked", async () => {
    sandbox = await startSandbox({ controllers: false });
    const s3 = client(sandbox);
    const Bucket = "lifecycle-bucket";
    await expect(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).rejects.toMatchObject({
      name: "NoSuchLifecycleConfiguration",
    });
    const rule = {
      ID: "clouddrove-backup-retention",
      Status: "Enabled" as const,
      Filter: { Prefix: "clouddrove/" },
      Expiration: { Days: 30 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
    };
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [rule] } }),
    );
    expect((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules).toEqual([rule]);

    const stranger = client(sandbox, { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "nope" });
    await expect(
      stranger.send(
        new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [] } }),
      ),
    ).rejects.toMatchObject({ name: "InvalidAccessKeyId" });

    await s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
    await expect(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).rejects.toMatchObject({
      name: "NoSuchLifecycleConfiguration",
    });
  });

  it("keeps the bucket's encryption, public access block and policy; creating it again is BucketAlreadyOwnedByYou", async () => {
    dir = mkdtempSync(join(tmpdir(), "clouddrove-sandbox-s3-config-"));
    sandbox = await startSandbox({ controllers: false, stateDir: dir });
    const s3 = client(sandbox);
    const Bucket = "configured-bucket";
    await s3.send(
      new CreateBucketCommand({ Bucket, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }),
    );
    await expect(
      s3.send(
        new CreateBucketCommand({ Bucket, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }),
      ),
    ).rejects.toMatchObject({ name: "BucketAlreadyOwnedByYou" });
    await expect(s3.send(new GetBucketEncryptionCommand({ Bucket }))).rejects.toMatchObject({
      name: "ServerSideEncryptionConfigurationNotFoundError",
    });
    await expect(s3.send(new GetPublicAccessBlockCommand({ Bucket }))).rejects.toMatchObject({
      name: "NoSuchPublicAccessBlockConfiguration",
    });
    await expect(s3.send(new GetBucketPolicyCommand({ Bucket }))).rejects.toMatchObject({
      name: "NoSuchBucketPolicy",
    });

    const block = {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: false,
    };
    await s3.send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: block }));
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: {
                SSEAlgorithm: "aws:kms",
                KMSMasterKeyID: "alias/backups",
              },
            },
          ],
        },
      }),
    );
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Sid: "deny", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "*" }],
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: policy }));
    await expect(s3.send(new PutBucketPolicyCommand({ Bucket, Policy: "{}" }))).rejects.toMatchObject({
      name: "MalformedPolicy",
    });
    await sandbox.stop();

    sandbox = await startSandbox({ controllers: false, stateDir: dir });
    const again = client(sandbox);
    expect(
      (await again.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration,
    ).toEqual(block);
    const encryption = await again.send(new GetBucketEncryptionCommand({ Bucket }));
    expect(
      encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault,
    ).toEqual({
      SSEAlgorithm: "aws:kms",
      KMSMasterKeyID: "alias/backups",
    });
    expect((await again.send(new GetBucketPolicyCommand({ Bucket }))).Policy).toBe(policy);
    await again.send(new DeleteBucketPolicyCommand({ Bucket }));
    await expect(again.send(new GetBucketPolicyCommand({ Bucket }))).rejects.toMatchObject({
      name: "NoSuchBucketPolicy",
    });
  });
});
