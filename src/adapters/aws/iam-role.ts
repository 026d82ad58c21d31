/**
 * The backup Job's IAM role: made (or brought back in line) with its trust policy and one inline
 * permission policy, and the check that the cluster's IAM OIDC provider exists (IRSA trusts it). The
 * documents come from core/backup/provision.ts.
 */
import {
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  type IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import type { PolicyDocument } from "../../core/backup/provision.js";
import { aws, isAwsError } from "./errors.js";

/** Whether IAM knows the OIDC provider (eksctl registers it for a cluster with iam.withOIDC). */
export async function oidcProviderExists(iam: IAMClient, providerArn: string): Promise<boolean> {
  try {
    await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn }));
    return true;
  } catch (error) {
    if (isAwsError(error, "NoSuchEntity", "NoSuchEntityException")) return false;
    return aws(`looking up the IAM OIDC provider ${providerArn}`, () => Promise.reject(error));
  }
}

export interface RoleInput {
  name: string;
  description: string;
  trust: PolicyDocument;
  policyName: string;
  policy: PolicyDocument;
  tags: Record<string, string>;
}

/**
 * Creates the role, or sets the trust policy of the existing one (the namespace or the cluster's issuer
 * may have changed); then writes the inline policy. Returns the role's ARN and whether it was made now.
 */
export async function ensureRole(
  iam: IAMClient,
  input: RoleInput,
): Promise<{ arn: string; created: boolean }> {
  const trust = JSON.stringify(input.trust);
  let arn: string | undefined;
  let created = false;
  try {
    arn = (await iam.send(new GetRoleCommand({ RoleName: input.name }))).Role?.Arn;
  } catch (error) {
    if (!isAwsError(error, "NoSuchEntity", "NoSuchEntityException")) {
      return aws(`looking up IAM role ${input.name}`, () => Promise.reject(error));
    }
  }
  if (arn) {
    await aws(`updating the trust policy of IAM role ${input.name}`, () =>
      iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: input.name, PolicyDocument: trust })),
    );
  } else {
    const answer = await aws(`creating IAM role ${input.name}`, () =>
      iam.send(
        new CreateRoleCommand({
          RoleName: input.name,
          Description: input.description,
          AssumeRolePolicyDocument: trust,
          Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      ),
    );
    arn = answer.Role?.Arn;
    created = true;
  }
  await aws(`writing the policy ${input.policyName} of IAM role ${input.name}`, () =>
    iam.send(
      new PutRolePolicyCommand({
        RoleName: input.name,
        PolicyName: input.policyName,
        PolicyDocument: JSON.stringify(input.policy),
      }),
    ),
  );
  return { arn: arn ?? "", created };
}
