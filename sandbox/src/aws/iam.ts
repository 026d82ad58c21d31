/**
 * IAM (awsQuery protocol, API version 2010-05-08): the calls `clouddrove cluster create` makes for the
 * backup Job's role. Roles are kept with the account's saved state; the cluster's OIDC provider is
 * derived from the cluster, as eksctl (iam.withOIDC) would have registered it. Policy documents are
 * returned URL-encoded, as IAM returns them.
 */
import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { AwsContext } from "./context.js";
import { AwsServiceError, type Form, sendQueryResult, type XmlValue } from "./protocol.js";
import { type ClusterShape, type RoleRecord, SANDBOX_ACCOUNT } from "./state.js";

const NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";

/** The cluster's OIDC issuer, stable for its name and region, shaped as EKS's. */
export function oidcIssuer(cluster: ClusterShape): string {
  const id = createHash("sha256").update(`${cluster.region}/${cluster.name}/oidc`).digest("hex").slice(0, 32);
  return `https://oidc.eks.${cluster.region}.amazonaws.com/id/${id.toUpperCase()}`;
}

function noSuchEntity(message: string): AwsServiceError {
  return new AwsServiceError("NoSuchEntity", message, 404);
}

function isPolicy(text: string | null): text is string {
  try {
    return text !== null && Array.isArray((JSON.parse(text) as { Statement?: unknown }).Statement);
  } catch {
    return false;
  }
}

function policyParam(form: Form, name: string): string {
  const text = form.get(name);
  if (!isPolicy(text))
    throw new AwsServiceError("MalformedPolicyDocument", `${name} is not a policy document.`);
  return text;
}

function roleView(role: RoleRecord) {
  return {
    Path: "/",
    RoleName: role.RoleName,
    RoleId: role.RoleId,
    Arn: role.Arn,
    CreateDate: new Date(role.CreateDate).toISOString(),
    AssumeRolePolicyDocument: encodeURIComponent(role.AssumeRolePolicyDocument),
    Description: role.Description,
  };
}

function findRole(ctx: AwsContext, name: string | null): RoleRecord {
  const role = (ctx.state.roles ?? []).find((r) => r.RoleName === name);
  if (!role) throw noSuchEntity(`The role with name ${name} cannot be found.`);
  return role;
}

export function handleIam(ctx: AwsContext, form: Form, response: ServerResponse): void {
  const action = form.get("Action") ?? "";
  sendQueryResult(response, action, NAMESPACE, iamResult(ctx, action, form));
}

/** The `<ActionResult>` of one IAM action; what changes is changed in the account's state. */
function iamResult(ctx: AwsContext, action: string, form: Form): XmlValue {
  switch (action) {
    case "GetOpenIDConnectProvider": {
      const cluster = ctx.cluster();
      const ours = `arn:aws:iam::${SANDBOX_ACCOUNT}:oidc-provider/${oidcIssuer(cluster).replace("https://", "")}`;
      const arn = form.get("OpenIDConnectProviderArn");
      if (arn !== ours) throw noSuchEntity(`OpenIDConnect Provider not found for arn ${arn}`);
      return {
        Url: oidcIssuer(cluster).replace("https://", ""),
        // awsQuery lists are <member> elements (protocol.ts's arrays are EC2's <item>s).
        ClientIDList: { member: "sts.amazonaws.com" },
        ThumbprintList: {},
        CreateDate: new Date(0).toISOString(),
      };
    }
    case "CreateRole": {
      const name = form.get("RoleName") ?? "";
      if (!/^[\w+=,.@-]{1,64}$/.test(name))
        throw new AwsServiceError("ValidationError", `Invalid role name ${name}.`);
      if ((ctx.state.roles ?? []).some((r) => r.RoleName === name)) {
        throw new AwsServiceError("EntityAlreadyExists", `Role with name ${name} already exists.`, 409);
      }
      const tags: RoleRecord["Tags"] = [];
      for (let i = 1; form.has(`Tags.member.${i}.Key`); i++) {
        tags.push({
          Key: form.get(`Tags.member.${i}.Key`) as string,
          Value: form.get(`Tags.member.${i}.Value`) ?? "",
        });
      }
      ctx.state.counter += 1;
      const role: RoleRecord = {
        RoleName: name,
        RoleId: `AROA${createHash("sha256").update(`${name}/${ctx.state.counter}`).digest("hex").slice(0, 17).toUpperCase()}`,
        Arn: `arn:aws:iam::${SANDBOX_ACCOUNT}:role/${name}`,
        Description: form.get("Description") ?? undefined,
        CreateDate: ctx.clock.now(),
        AssumeRolePolicyDocument: policyParam(form, "AssumeRolePolicyDocument"),
        Tags: tags,
        policies: {},
      };
      ctx.state.roles = [...(ctx.state.roles ?? []), role];
      return { Role: roleView(role) };
    }
    case "GetRole":
      return { Role: roleView(findRole(ctx, form.get("RoleName"))) };
    case "UpdateAssumeRolePolicy": {
      const role = findRole(ctx, form.get("RoleName"));
      role.AssumeRolePolicyDocument = policyParam(form, "PolicyDocument");
      return undefined;
    }
    case "PutRolePolicy": {
      const role = findRole(ctx, form.get("RoleName"));
      role.policies[form.get("PolicyName") ?? ""] = policyParam(form, "PolicyDocument");
      return undefined;
    }
    case "GetRolePolicy": {
      const role = findRole(ctx, form.get("RoleName"));
      const name = form.get("PolicyName") ?? "";
      const document = role.policies[name];
      if (document === undefined) throw noSuchEntity(`The role policy with name ${name} cannot be found.`);
      return {
        RoleName: role.RoleName,
        PolicyName: name,
        PolicyDocument: encodeURIComponent(document),
      };
    }
    default:
      throw new AwsServiceError(
        "InvalidAction",
        `The sandbox's IAM does not serve ${action || "this action"}.`,
      );
  }
}
