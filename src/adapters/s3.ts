/**
 * The backup bucket, through the AWS SDK v3 S3 client (imported lazily: most commands never touch S3).
 * Lists the archives archive.sh wrote under the prefix, streams one back, reads its checksum, and merges
 * the retention rule into the bucket's lifecycle configuration. An endpoint override (with path-style
 * addressing) points it at an S3-compatible server, as tests do.
 */
import type { S3Client, LifecycleRule as SdkLifecycleRule } from "@aws-sdk/client-s3";
import type { BackupBucketTarget } from "../core/backup/bucket-target.js";
import { type LifecycleRule, mergeLifecycleRules } from "../core/backup/lifecycle.js";
import { parseChecksumFile, type SnapshotBlobStore } from "../core/backup/verify.js";
import { ClouddroveError, CredentialsError, OperationError, UsageError } from "../errors.js";
import { silenceSdkNodeVersionWarning } from "./aws/node-warning.js";

export interface ArchiveObject {
  key: string;
  /** The file name under the prefix, e.g. "20250131T030000Z.tar". */
  name: string;
  time: Date;
  bytes: number;
  /** The .sha256 object exists: archive.sh writes it last, so without it the run did not finish. */
  complete: boolean;
}

export interface BackupBucket {
  readonly target: BackupBucketTarget;
  /** Archives directly under the prefix, oldest first. */
  listArchives(): Promise<ArchiveObject[]>;
  /** "latest" (the newest complete archive), a full key, or a file name under the prefix. */
  resolveArchive(from: string): Promise<ArchiveObject>;
  readObject(key: string): Promise<AsyncIterable<Uint8Array>>;
  readText(key: string): Promise<string>;
  /** The hex sha256 from "<key>.sha256". */
  readChecksum(archiveKey: string): Promise<string>;
  /** The blobs snapshots reference, stored once each under PREFIX + "blobs/" (archive.sh uploads them). */
  blobStore(): SnapshotBlobStore;
  getLifecycleRules(): Promise<LifecycleRule[]>;
  /** Adds or replaces our rule, keeping every other rule; returns the configuration written. */
  putLifecycleRule(rule: LifecycleRule): Promise<LifecycleRule[]>;
  close(): void;
}

/** Where archive.sh stores a blob: the registry's own layout under the prefix. */
export function blobKey(prefix: string, hex: string): string {
  return `${prefix}blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
}
const BLOB_KEY = /blobs\/sha256\/([a-f0-9]{2})\/([a-f0-9]{64})\/data$/;

function normalizePrefix(prefix: string): string {
  return prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
}

const CREDENTIAL_ERRORS = new Set([
  "CredentialsProviderError",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "TokenRefreshRequired",
  "InvalidToken",
]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET"]);

/** Maps an SDK error to the ClouddroveError that says what to do about it. */
export function s3Error(error: unknown, action: string, target: BackupBucketTarget): ClouddroveError {
  if (error instanceof ClouddroveError) return error;
  const name = (error as { name?: string })?.name ?? "";
  const code = (error as { code?: string })?.code ?? "";
  const message = (error as Error)?.message ?? String(error);
  const where = `s3://${target.bucket}`;
  if (CREDENTIAL_ERRORS.has(name)) {
    return new CredentialsError(
      `Cannot ${action} in ${where}: no valid AWS credentials (${name}: ${message})`,
      {
        hint: "Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`.",
        cause: error,
      },
    );
  }
  if (name === "AccessDenied" || name === "Forbidden" || name === "AllAccessDisabled") {
    return new CredentialsError(`Cannot ${action} in ${where}: access denied`, {
      hint:
        "The identity needs s3:ListBucket and s3:GetObject on the bucket and prefix (and " +
        "s3:GetLifecycleConfiguration/s3:PutLifecycleConfiguration for --retention-days).",
      cause: error,
    });
  }
  if (name === "NoSuchBucket") {
    return new UsageError(`The backup bucket ${target.bucket} does not exist`, {
      hint: "Check backup.bucket (--backup-bucket) and backup.region; create the bucket first.",
      cause: error,
    });
  }
  if (name === "NoSuchKey" || name === "NotFound") {
    return new UsageError(`Cannot ${action}: no such object in ${where}`, {
      hint: "List the archives with `clouddrove backup list` and pass one of their keys.",
      cause: error,
    });
  }
  if (
    name === "PermanentRedirect" ||
    name === "AuthorizationHeaderMalformed" ||
    name === "IllegalLocationConstraintException"
  ) {
    return new UsageError(`Cannot ${action} in ${where}: the bucket is in another region`, {
      hint: "Set backup.region (--backup-region) to the bucket's region.",
      cause: error,
    });
  }
  if (/region is missing/i.test(message)) {
    return new UsageError(`Cannot ${action} in ${where}: no AWS region is set`, {
      hint: "Set backup.region (--backup-region) or the cluster's --region, or AWS_REGION.",
      cause: error,
    });
  }
  if (NETWORK_CODES.has(code) || NETWORK_CODES.has(name)) {
    return new CredentialsError(`Cannot ${action}: S3 is unreachable (${code || name})`, {
      hint: target.endpoint
        ? `Check that ${target.endpoint} is up.`
        : "Check the network and proxy settings.",
      cause: error,
    });
  }
  return new OperationError(`Cannot ${action} in ${where}: ${name ? `${name}: ` : ""}${message}`, {
    hint: "Retry; if it persists, check the bucket in the AWS console.",
    cause: error,
  });
}

export async function openBackupBucket(input: BackupBucketTarget): Promise<BackupBucket> {
  const sdk = await import("@aws-sdk/client-s3");
  silenceSdkNodeVersionWarning();
  const target: BackupBucketTarget = { ...input, prefix: normalizePrefix(input.prefix) };
  const client: S3Client = new sdk.S3Client({
    ...(target.region ? { region: target.region } : {}),
    ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
    ...(target.credentials ? { credentials: target.credentials } : {}),
  });
  const { bucket, prefix } = target;

  async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw s3Error(error, action, target);
    }
  }

  async function listArchives(): Promise<ArchiveObject[]> {
    const sizes = new Map<string, { time: Date; bytes: number }>();
    const names = new Set<string>();
    let token: string | undefined;
    do {
      const page = await call(`list s3://${bucket}/${prefix}`, () =>
        client.send(
          new sdk.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            Delimiter: "/",
            ContinuationToken: token,
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        const name = object.Key.slice(prefix.length);
        names.add(name);
        if (name.endsWith(".tar")) {
          sizes.set(name, { time: object.LastModified ?? new Date(0), bytes: object.Size ?? 0 });
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return [...sizes]
      .map(([name, info]) => ({
        key: `${prefix}${name}`,
        name,
        time: info.time,
        bytes: info.bytes,
        complete: names.has(`${name}.sha256`),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)); // names are UTC timestamps: name order is time order
  }

  async function resolveArchive(from: string): Promise<ArchiveObject> {
    const archives = await listArchives();
    if (from === "latest") {
      const latest = archives.filter((archive) => archive.complete).at(-1);
      if (!latest) {
        throw new UsageError(`No complete archive under s3://${bucket}/${prefix}`, {
          hint: "Take one with `clouddrove backup now`, or check backup.bucket and backup.prefix.",
        });
      }
      return latest;
    }
    const key = from.includes("/") ? from : `${prefix}${from}`;
    const found = archives.find((archive) => archive.key === key);
    if (!found) {
      throw new UsageError(`No archive ${key} in s3://${bucket}`, {
        hint: "List the archives with `clouddrove backup list` and pass one of their keys (or latest).",
      });
    }
    return found;
  }

  async function readObject(key: string): Promise<AsyncIterable<Uint8Array>> {
    const response = await call(`read s3://${bucket}/${key}`, () =>
      client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key })),
    );
    if (!response.Body) throw new OperationError(`s3://${bucket}/${key} came back without a body`);
    return response.Body as AsyncIterable<Uint8Array>;
  }

  async function readText(key: string): Promise<string> {
    const response = await call(`read s3://${bucket}/${key}`, () =>
      client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key })),
    );
    return (await response.Body?.transformToString("utf-8")) ?? "";
  }

  async function blobSizes(): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    const blobPrefix = `${prefix}blobs/sha256/`;
    let token: string | undefined;
    do {
      const page = await call(`list s3://${bucket}/${blobPrefix}`, () =>
        client.send(
          new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: blobPrefix, ContinuationToken: token }),
        ),
      );
      for (const object of page.Contents ?? []) {
        const match = BLOB_KEY.exec(object.Key ?? "");
        if (match?.[2] && object.Key === blobKey(prefix, match[2])) sizes.set(match[2], object.Size ?? 0);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return sizes;
  }

  async function getLifecycleRules(): Promise<LifecycleRule[]> {
    try {
      const response = await client.send(new sdk.GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
      return (response.Rules ?? []) as LifecycleRule[];
    } catch (error) {
      // A bucket without any lifecycle configuration answers with this error, not with an empty list.
      if ((error as { name?: string }).name === "NoSuchLifecycleConfiguration") return [];
      throw s3Error(error, "read the lifecycle configuration", target);
    }
  }

  async function putLifecycleRule(rule: LifecycleRule): Promise<LifecycleRule[]> {
    const rules = mergeLifecycleRules(await getLifecycleRules(), rule);
    await call("write the lifecycle configuration", () =>
      client.send(
        new sdk.PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          LifecycleConfiguration: { Rules: rules as SdkLifecycleRule[] },
        }),
      ),
    );
    return rules;
  }

  return {
    target,
    listArchives,
    resolveArchive,
    readObject,
    readText,
    readChecksum: async (archiveKey) => {
      let text: string;
      try {
        text = await readText(`${archiveKey}.sha256`);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        // archive.sh writes the .sha256 last: without it the run that made this archive did not finish.
        throw new UsageError(`The archive ${archiveKey} has no checksum file (${archiveKey}.sha256)`, {
          hint: "The backup run that wrote it did not finish; choose another archive (clouddrove backup list).",
          cause: error,
        });
      }
      return parseChecksumFile(text);
    },
    blobStore: () => ({ sizes: blobSizes, read: (hex) => readObject(blobKey(prefix, hex)) }),
    getLifecycleRules,
    putLifecycleRule,
    close: () => client.destroy(),
  };
}
