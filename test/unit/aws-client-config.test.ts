/** How an AWS SDK client is configured from the command's environment (src/adapters/aws/config.ts). */
import { describe, expect, it } from "vitest";
import { awsClientConfig } from "../../src/adapters/aws.js";

describe("awsClientConfig", () => {
  it("takes the service's own endpoint first, then AWS_ENDPOINT_URL, unless configured endpoints are ignored", () => {
    const env = { AWS_ENDPOINT_URL: "http://127.0.0.1:4000", AWS_ENDPOINT_URL_EKS: "http://127.0.0.1:5000" };
    expect(awsClientConfig("EKS", "eu-west-1", env).endpoint).toBe("http://127.0.0.1:5000");
    expect(awsClientConfig("EFS", "eu-west-1", env).endpoint).toBe("http://127.0.0.1:4000");
    expect(awsClientConfig("EC2", "eu-west-1", {}).endpoint).toBeUndefined();
    expect(
      awsClientConfig("EKS", "eu-west-1", { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" }),
    ).not.toHaveProperty("endpoint");
  });

  it("uses static keys from the environment (with a session token), else the environment's profile", () => {
    const keys = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret", AWS_PROFILE: "dev" };
    expect(awsClientConfig("STS", "us-east-1", keys)).toEqual({
      region: "us-east-1",
      maxAttempts: 4,
      credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret" },
    });
    expect(awsClientConfig("STS", "us-east-1", { ...keys, AWS_SESSION_TOKEN: "token" }).credentials).toEqual({
      accessKeyId: "AKIAEXAMPLE",
      secretAccessKey: "secret",
      sessionToken: "token",
    });
    // Half a key pair is no key: the SDK's chain, with the environment's profile.
    expect(
      awsClientConfig("STS", "us-east-1", { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_PROFILE: "dev" }),
    ).toEqual({
      region: "us-east-1",
      maxAttempts: 4,
      profile: "dev",
    });
  });
});
