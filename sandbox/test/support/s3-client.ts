/** An AWS SDK S3 client on a sandbox's own S3, with its keys (or others, to see them refused). */
import { S3Client } from "@aws-sdk/client-s3";
import { type Sandbox, s3Environment } from "../../src/index.js";

export function sandboxS3Client(
  sandbox: Pick<Sandbox, "s3" | "aws">,
  keys?: { accessKeyId: string; secretAccessKey: string },
): S3Client {
  const env = s3Environment(sandbox);
  return new S3Client({
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_S3,
    forcePathStyle: true,
    credentials: keys ?? {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? "",
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "",
    },
  });
}
