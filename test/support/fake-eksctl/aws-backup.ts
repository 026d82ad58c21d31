/**
 * The S3 and IAM side of the fake AWS account (aws.ts): buckets with their configurations and roles with
 * their policies, changed as `cluster create`'s backup steps call, so a second run sees what the first
 * made. A bucket named in `foreign` belongs to another account (CreateBucket: BucketAlreadyExists).
 */
import {
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";

export interface FakeBucket {
  region: string;
  encryption?: unknown;
  publicAccessBlock?: unknown;
  policy?: string;
  lifecycle?: unknown[];
}

export interface FakeRole {
  arn: string;
  trust: string;
  policies: Record<string, string>;
}

export interface FakeBackupState {
  buckets: Record<string, FakeBucket>;
  roles: Record<string, FakeRole>;
  /** OIDC provider ARNs IAM knows (eksctl's iam.withOIDC registers the cluster's). */
  oidcProviders: string[];
}

function awsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export function fakeBackupAws(account: string, foreign: string[] = []) {
  const state: FakeBackupState = { buckets: {}, roles: {}, oidcProviders: [] };
  const bucket = (name: string) => {
    const found = state.buckets[name];
    if (!found) throw awsError("NoSuchBucket", `The specified bucket does not exist: ${name}`);
    return found;
  };
  const s3 = mockClient(S3Client);
  s3.on(CreateBucketCommand).callsFake((input) => {
    if (foreign.includes(input.Bucket))
      throw awsError("BucketAlreadyExists", "The requested bucket name is not available.");
    if (state.buckets[input.Bucket]) throw awsError("BucketAlreadyOwnedByYou", "You already own it.");
    state.buckets[input.Bucket] = {
      region: input.CreateBucketConfiguration?.LocationConstraint ?? "us-east-1",
    };
    return {};
  });
  s3.on(GetBucketEncryptionCommand).callsFake((input) => {
    const found = bucket(input.Bucket).encryption;
    if (!found) throw awsError("ServerSideEncryptionConfigurationNotFoundError", "none");
    return { ServerSideEncryptionConfiguration: found };
  });
  s3.on(PutBucketEncryptionCommand).callsFake((input) => {
    bucket(input.Bucket).encryption = input.ServerSideEncryptionConfiguration;
    return {};
  });
  s3.on(PutPublicAccessBlockCommand).callsFake((input) => {
    bucket(input.Bucket).publicAccessBlock = input.PublicAccessBlockConfiguration;
    return {};
  });
  s3.on(GetBucketPolicyCommand).callsFake((input) => {
    const policy = bucket(input.Bucket).policy;
    if (!policy) throw awsError("NoSuchBucketPolicy", "The bucket policy does not exist");
    return { Policy: policy };
  });
  s3.on(PutBucketPolicyCommand).callsFake((input) => {
    bucket(input.Bucket).policy = input.Policy;
    return {};
  });
  s3.on(GetBucketLifecycleConfigurationCommand).callsFake((input) => {
    const rules = bucket(input.Bucket).lifecycle;
    if (!rules) throw awsError("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist");
    return { Rules: rules };
  });
  s3.on(PutBucketLifecycleConfigurationCommand).callsFake((input) => {
    bucket(input.Bucket).lifecycle = input.LifecycleConfiguration?.Rules ?? [];
    return {};
  });

  const iam = mockClient(IAMClient);
  iam.on(GetOpenIDConnectProviderCommand).callsFake((input) => {
    if (!state.oidcProviders.includes(input.OpenIDConnectProviderArn))
      throw awsError("NoSuchEntityException", "not found");
    return { ClientIDList: ["sts.amazonaws.com"] };
  });
  const role = (name: string) => {
    const found = state.roles[name];
    if (!found) throw awsError("NoSuchEntityException", `The role with name ${name} cannot be found.`);
    return found;
  };
  iam
    .on(GetRoleCommand)
    .callsFake((input) => ({ Role: { RoleName: input.RoleName, Arn: role(input.RoleName).arn } }));
  iam.on(CreateRoleCommand).callsFake((input) => {
    const arn = `arn:aws:iam::${account}:role/${input.RoleName}`;
    state.roles[input.RoleName] = { arn, trust: input.AssumeRolePolicyDocument, policies: {} };
    return { Role: { RoleName: input.RoleName, Arn: arn } };
  });
  iam.on(UpdateAssumeRolePolicyCommand).callsFake((input) => {
    role(input.RoleName).trust = input.PolicyDocument;
    return {};
  });
  iam.on(PutRolePolicyCommand).callsFake((input) => {
    role(input.RoleName).policies[input.PolicyName] = input.PolicyDocument;
    return {};
  });
  return {
    state,
    s3,
    iam,
    restore: () => {
      s3.restore();
      iam.restore();
    },
  };
}
