/**
 * How an AWS SDK client is configured from the environment the command runs in (not only process.env,
 * so tests and the command layer can inject one): the region given, the standard endpoint settings
 * AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL (unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true),
 * static credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), else the
 * SDK's own credential chain with that environment's AWS_PROFILE.
 */

/** The SDK service ids of the services clouddrove's AWS adapters call (AWS_ENDPOINT_URL_<id>). */
export type AwsServiceId = "STS" | "EC2" | "EKS" | "EFS" | "S3" | "IAM" | "ACM" | "ROUTE_53";

export interface AwsClientConfig {
  region: string;
  maxAttempts: number;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  profile?: string;
}

const set = (value: string | undefined) => (value && value.trim() !== "" ? value.trim() : undefined);

export function configuredEndpoint(service: AwsServiceId, env: NodeJS.ProcessEnv): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === "true") return undefined;
  return set(env[`AWS_ENDPOINT_URL_${service}`]) ?? set(env.AWS_ENDPOINT_URL);
}

export function staticCredentials(env: NodeJS.ProcessEnv): AwsClientConfig["credentials"] {
  const accessKeyId = set(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = set(env.AWS_SECRET_ACCESS_KEY);
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = set(env.AWS_SESSION_TOKEN);
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

export function awsClientConfig(
  service: AwsServiceId,
  region: string,
  env: NodeJS.ProcessEnv,
): AwsClientConfig {
  const endpoint = configuredEndpoint(service, env);
  const credentials = staticCredentials(env);
  const profile = credentials ? undefined : set(env.AWS_PROFILE);
  // A few retries with the SDK's own backoff cover throttling; the rest is mapped by mapAwsError.
  return {
    region,
    maxAttempts: 4,
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    ...(profile ? { profile } : {}),
  };
}
