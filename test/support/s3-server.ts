/**
 * A local S3-compatible server (s3rver) for tests: a free loopback port, a temporary directory, one
 * bucket created up front. Real S3 clients reach it with an endpoint override and path-style addressing;
 * `rcloneEnv` gives the environment the backup scripts read to find it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// s3rver ships no type declarations; this is the part of its API the tests use.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps objects on disk: tests may corrupt an object here. */
  directory: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The file holding an object's bytes (s3rver's own layout): tests corrupt objects through it. */
  objectPath(key: string): string;
  /** Environment for the backup scripts (rclone remote "backup" pointed at this server). */
  rcloneEnv(): Record<string, string>;
  stop(): Promise<void>;
}

// s3rver accepts this fixed pair (and only it) when it checks signatures.
const ACCESS_KEY_ID = "S3RVER";
const SECRET_ACCESS_KEY = "S3RVER";

/** The backup scripts' rclone remote "backup" pointed at an S3-compatible server with static keys. */
export function rcloneEnv(target: {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}): Record<string, string> {
  return {
    RCLONE_CONFIG_BACKUP_TYPE: "s3",
    RCLONE_CONFIG_BACKUP_PROVIDER: "Other",
    RCLONE_CONFIG_BACKUP_ENV_AUTH: "false",
    RCLONE_CONFIG_BACKUP_ACCESS_KEY_ID: target.accessKeyId,
    RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY: target.secretAccessKey,
    RCLONE_CONFIG_BACKUP_ENDPOINT: target.endpoint,
    RCLONE_CONFIG_BACKUP_REGION: target.region,
    RCLONE_CONFIG_BACKUP_FORCE_PATH_STYLE: "true",
  };
}

export async function startS3Server(bucket = "clouddrove-test"): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), "clouddrove-s3-"));
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverConstructor;
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const region = "us-east-1";
  return {
    endpoint,
    bucket,
    directory,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    region,
    objectPath: (key) => join(directory, bucket, `${key}._S3rver_object`),
    rcloneEnv: () =>
      rcloneEnv({ endpoint, accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, region }),
    stop: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
