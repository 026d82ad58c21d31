/**
 * The sandbox's own S3: an S3-compatible store on 127.0.0.1 (s3rver: objects, multipart uploads,
 * ListObjectsV2, HEAD, DELETE, SigV4 checked against the sandbox's keys, those of its AWS endpoint) standing in for Amazon S3
 * in the sandbox's region. Two things are added in front of s3rver:
 *
 * - Buckets exist on first use. On AWS clouddrove never creates a bucket (the operator does, once); in
 *   the sandbox there is nobody to do that, so any request naming a bucket that does not exist creates
 *   it first, as if it had always been there. CreateBucket and DeleteBucket still work as S3's do.
 * - The bucket configurations s3rver lacks: lifecycle, default encryption, public access block and
 *   policy (Get/Put/Delete of each). Each is kept as the document the client sent, per bucket, and
 *   returned as is; a bucket without one gets S3's error for that (`NoSuchLifecycleConfiguration`,
 *   `NoSuchBucketPolicy`, ...). Creating a bucket that exists answers `BucketAlreadyOwnedByYou`: every
 *   bucket here is the sandbox account's.
 *
 * Data lives in `<dir>/buckets` (s3rver's file layout) and `<dir>/<configuration>/<bucket>.xml|json`
 * (`lifecycle`, `encryption`, `public-access-block`, `policy`); with a state
 * directory `<dir>` is `<stateDir>/s3`, so objects outlive a restart like the bucket outlives a cluster.
 */
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** s3rver's account registry (its own module): the sandbox's keys are added to its built-in account. */
interface S3rverAccounts {
  DUMMY_ACCOUNT: {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
    revokeAccessKey(accessKeyId: string): void;
  };
}

export interface SandboxS3 {
  /** e.g. http://127.0.0.1:41235 (path-style addressing). */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Where s3rver keeps the buckets (`<bucket>/<key>._S3rver_object`). */
  readonly directory: string;
  stop(): Promise<void>;
}

// s3rver ships no type declarations; this is the part of its API used here.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer: Server;
  store: { getBucket(name: string): Promise<unknown>; putBucket(name: string): Promise<unknown> };
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  vhostBuckets: boolean;
}) => S3rverInstance;

/** S3's rules for a bucket name (the ones that matter for a path segment): 3-63 of a-z 0-9 . - */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A bucket configuration s3rver lacks, kept here per bucket as the document the client sent. */
interface BucketConfiguration {
  /** The query parameter that names it: `?lifecycle`. */
  query: string;
  /** Where it is kept under the store's directory: `<directory>/<bucket>.<extension>`. */
  directory: string;
  extension: "xml" | "json";
  /** S3's error code, and message, for a bucket without one. */
  missing: string;
  missingMessage: string;
  wellFormed(body: string): boolean;
}

function isPolicy(body: string): boolean {
  try {
    return Array.isArray((JSON.parse(body) as { Statement?: unknown }).Statement);
  } catch {
    return false;
  }
}

const BUCKET_CONFIGURATIONS: readonly BucketConfiguration[] = [
  {
    query: "lifecycle",
    directory: "lifecycle",
    extension: "xml",
    missing: "NoSuchLifecycleConfiguration",
    missingMessage: "The lifecycle configuration does not exist",
    wellFormed: (body) => /<LifecycleConfiguration[\s>]/.test(body),
  },
  {
    query: "encryption",
    directory: "encryption",
    extension: "xml",
    missing: "ServerSideEncryptionConfigurationNotFoundError",
    missingMessage: "The server side encryption configuration was not found",
    wellFormed: (body) => /<ServerSideEncryptionConfiguration[\s>]/.test(body),
  },
  {
    query: "publicAccessBlock",
    directory: "public-access-block",
    extension: "xml",
    missing: "NoSuchPublicAccessBlockConfiguration",
    missingMessage: "The public access block configuration was not found",
    wellFormed: (body) => /<PublicAccessBlockConfiguration[\s>]/.test(body),
  },
  {
    query: "policy",
    directory: "policy",
    extension: "json",
    missing: "NoSuchBucketPolicy",
    missingMessage: "The bucket policy does not exist",
    wellFormed: isPolicy,
  },
];

function sendXml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "Content-Type": "application/xml" });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function s3ErrorXml(code: string, message: string, bucket: string): string {
  return `<Error><Code>${code}</Code><Message>${message}</Message><BucketName>${bucket}</BucketName></Error>`;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The access key a request is signed with (SigV4 header or presigned query), undefined when unsigned.
 * Only the bucket configuration requests, which never reach s3rver, are checked this way (the key, not the
 * signature); everything else goes through s3rver's own signature check.
 */
function accessKeyOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization ?? "";
  const fromHeader = /Credential=([^/,\s]+)\//.exec(header)?.[1];
  return fromHeader ?? url.searchParams.get("X-Amz-Credential")?.split("/")[0] ?? undefined;
}

/** The environment that points AWS clients (SDKs, the CLI, clouddrove) at the sandbox's S3. */
export function s3Environment(sandbox: {
  s3: { endpoint: string; region: string };
  aws: { accessKeyId: string; secretAccessKey: string };
}): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: sandbox.s3.endpoint,
    AWS_ACCESS_KEY_ID: sandbox.aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: sandbox.aws.secretAccessKey,
    AWS_REGION: sandbox.s3.region,
  };
}

/**
 * Starts the store on a free port of 127.0.0.1: in `<stateDir>/s3` when there is a state directory, else
 * in a temporary directory removed at stop (or when this process exits).
 */
export async function startSandboxS3(options: {
  stateDir?: string;
  region: string;
  /** The sandbox's keys, which this store accepts (as the AWS endpoint does). */
  credentials: { accessKeyId: string; secretAccessKey: string };
}): Promise<SandboxS3> {
  const { accessKeyId, secretAccessKey } = options.credentials;
  const directory = options.stateDir
    ? join(options.stateDir, "s3")
    : await mkdtemp(join(tmpdir(), "clouddrove-sandbox-s3-"));
  const removeOnExit = () => rmSync(directory, { recursive: true, force: true });
  if (!options.stateDir) process.once("exit", removeOnExit);
  const buckets = join(directory, "buckets");
  await mkdir(buckets, { recursive: true });
  const require = createRequire(import.meta.url);
  const S3rver = require("s3rver") as S3rverConstructor;
  const accounts = require("s3rver/lib/models/account") as S3rverAccounts;
  accounts.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory: buckets,
    silent: true,
    vhostBuckets: false,
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;

  /** The bucket configuration a request names (`?lifecycle`, `?policy`, ...), when it is one kept here. */
  function configurationOf(url: URL): BucketConfiguration | undefined {
    return BUCKET_CONFIGURATIONS.find((kind) => url.searchParams.has(kind.query));
  }

  async function handleConfiguration(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    url: URL,
    kind: BucketConfiguration,
  ) {
    const key = accessKeyOf(req, url);
    if (key === undefined) return sendXml(res, 403, s3ErrorXml("AccessDenied", "Access Denied", bucket));
    if (key !== accessKeyId) {
      return sendXml(
        res,
        403,
        s3ErrorXml(
          "InvalidAccessKeyId",
          "The AWS Access Key Id you provided does not exist in our records.",
          bucket,
        ),
      );
    }
    const file = join(directory, kind.directory, `${bucket}.${kind.extension}`);
    if (req.method === "GET") {
      const stored = await readFile(file, "utf8").catch(() => undefined);
      if (stored === undefined)
        return sendXml(res, 404, s3ErrorXml(kind.missing, kind.missingMessage, bucket));
      if (kind.extension === "json") {
        res.writeHead(200, { "Content-Type": "application/json" }).end(stored);
        return;
      }
      return sendXml(res, 200, stored.replace(/^<\?xml[^>]*\?>\s*/, ""));
    }
    if (req.method === "PUT") {
      const body = (await readBody(req)).toString("utf8");
      if (!kind.wellFormed(body)) {
        const code = kind.extension === "json" ? "MalformedPolicy" : "MalformedXML";
        return sendXml(
          res,
          400,
          s3ErrorXml(code, `The ${kind.query} document you provided was not well-formed`, bucket),
        );
      }
      await mkdir(join(directory, kind.directory), { recursive: true });
      await writeFile(file, body);
      res.writeHead(kind.extension === "json" ? 204 : 200).end();
      return;
    }
    if (req.method === "DELETE") {
      await rm(file, { force: true });
      res.writeHead(204).end();
      return;
    }
    sendXml(res, 405, s3ErrorXml("MethodNotAllowed", "The specified method is not allowed", bucket));
  }

  async function front(req: IncomingMessage, res: ServerResponse, s3rver: Handler): Promise<void> {
    const url = new URL(req.url ?? "/", endpoint);
    const bucket = decodeURIComponent(url.pathname.split("/")[1] ?? "");
    const bucketOnly = url.pathname.replace(/\/+$/, "") === `/${bucket}`;
    if (BUCKET_NAME.test(bucket)) {
      const creating = bucketOnly && req.method === "PUT" && url.search === "";
      const deleting = bucketOnly && req.method === "DELETE" && url.search === "";
      const exists = Boolean(await server.store.getBucket(bucket));
      // Every bucket here is the sandbox account's: creating one again is S3's answer to its owner.
      if (creating && exists) {
        return sendXml(
          res,
          409,
          s3ErrorXml(
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
            bucket,
          ),
        );
      }
      if (!creating && !deleting && !exists) await server.store.putBucket(bucket);
      const kind = bucketOnly ? configurationOf(url) : undefined;
      if (kind) return handleConfiguration(req, res, bucket, url, kind);
    }
    s3rver(req, res);
  }

  // s3rver's own request handler stays behind the front one, on s3rver's own server (so its close()
  // still tears down everything it set up).
  const http = server.httpServer;
  const handlers = http.listeners("request") as Handler[];
  http.removeAllListeners("request");
  http.on("request", (req: IncomingMessage, res: ServerResponse) => {
    front(req, res, (a, b) => {
      for (const handler of handlers) handler(a, b);
    }).catch((error: unknown) => {
      if (!res.headersSent)
        sendXml(res, 500, s3ErrorXml("InternalError", String((error as Error)?.message ?? error), ""));
      else res.destroy();
    });
  });

  return {
    endpoint,
    region: options.region,
    accessKeyId,
    secretAccessKey,
    directory: buckets,
    stop: async () => {
      http.closeAllConnections?.();
      await server.close();
      accounts.DUMMY_ACCOUNT.revokeAccessKey(accessKeyId);
      if (!options.stateDir) {
        process.removeListener("exit", removeOnExit);
        await rm(directory, { recursive: true, force: true });
      }
    },
  };
}
