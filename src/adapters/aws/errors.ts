/**
 * AWS SDK errors as clouddrove errors: missing or rejected credentials and an unreachable AWS are exit 4
 * with a hint that names the fix; anything else is the operation failing (exit 1).
 */
import { type ClouddroveError, CredentialsError, OperationError } from "../../errors.js";

interface AwsLikeError {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

const CREDENTIAL_ERRORS = new Set([
  "CredentialsProviderError",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "AuthFailure",
  "SignatureDoesNotMatch",
  "InvalidSignatureException",
  "MissingAuthenticationToken",
]);

const PERMISSION_ERRORS = new Set(["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"]);

const NETWORK_CODES = new Set(["ENOTFOUND", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EAI_AGAIN"]);

export function awsErrorName(error: unknown): string {
  const e = error as AwsLikeError;
  return e?.name ?? e?.Code ?? e?.code ?? "";
}

export function isAwsError(error: unknown, ...names: string[]): boolean {
  const name = awsErrorName(error);
  return names.includes(name);
}

/** `action` says what clouddrove was doing, e.g. "listing the zones of eu-west-1". */
export function mapAwsError(error: unknown, action: string): ClouddroveError {
  const e = error as AwsLikeError;
  const name = awsErrorName(error);
  const message = e?.message ?? String(error);
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message)) {
    return new CredentialsError(`No AWS credentials were found while ${action}.`, {
      cause: error,
      hint: "Configure credentials (AWS_PROFILE, `aws sso login`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and check `aws sts get-caller-identity`.",
    });
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    return new CredentialsError(`AWS rejected the credentials while ${action}: ${name}: ${message}`, {
      cause: error,
      hint: "Refresh or fix your AWS credentials (e.g. `aws sso login`), then check `aws sts get-caller-identity`.",
    });
  }
  if (PERMISSION_ERRORS.has(name)) {
    return new CredentialsError(`The AWS identity may not do this (${action}): ${message}`, {
      cause: error,
      hint: "Use an identity allowed to manage EKS, EC2 (VPC, security groups) and EFS (and, for the backup bucket and its role, S3 buckets and IAM roles), e.g. via AWS_PROFILE.",
    });
  }
  if (
    NETWORK_CODES.has(e?.code ?? "") ||
    name === "TimeoutError" ||
    /getaddrinfo|ECONNREFUSED/.test(message)
  ) {
    return new CredentialsError(`AWS could not be reached while ${action}: ${message}`, {
      cause: error,
      hint: "Check the network connection, proxy settings (HTTPS_PROXY) and the region name.",
    });
  }
  return new OperationError(`AWS failed while ${action}: ${name ? `${name}: ` : ""}${message}`, {
    cause: error,
    hint: "Check the AWS console for the resource named above, then run the command again.",
  });
}

/** Runs one SDK call and maps its failure. */
export async function aws<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw mapAwsError(error, action);
  }
}
