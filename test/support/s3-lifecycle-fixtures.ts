/** What the lifecycle tests fake of S3 (the SDK behind aws-sdk-client-mock): its errors, and a bucket's other rule. */
import { S3ServiceException } from "@aws-sdk/client-s3";
import type { LifecycleRule } from "../../src/core/backup/lifecycle.js";

/** The error the SDK throws for an answer with this error code and HTTP status. */
export function s3ServiceError(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: "client",
    $metadata: { httpStatusCode: status },
    message: name,
  });
}

/** A rule of the bucket's own that is not clouddrove's: it expires logs/ after 3 days. */
export function logsRule(): LifecycleRule {
  return {
    ID: "logs",
    Status: "Enabled",
    Filter: { Prefix: "logs/" },
    Expiration: { Days: 3 },
  };
}
