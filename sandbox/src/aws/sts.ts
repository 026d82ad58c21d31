/** STS (awsQuery protocol): GetCallerIdentity, the one call clouddrove makes. */
import type { ServerResponse } from "node:http";
import type { AwsContext } from "./context.js";
import { AwsServiceError, type Form, sendQueryResult } from "./protocol.js";
import { SANDBOX_ACCOUNT } from "./state.js";

export function handleSts(ctx: AwsContext, form: Form, response: ServerResponse): void {
  const action = form.get("Action") ?? "";
  if (action !== "GetCallerIdentity") {
    throw new AwsServiceError(
      "InvalidAction",
      `The sandbox's STS does not serve ${action || "this action"}.`,
    );
  }
  sendQueryResult(response, action, "https://sts.amazonaws.com/doc/2011-06-15/", {
    Arn: `arn:aws:iam::${SANDBOX_ACCOUNT}:user/clouddrove-sandbox`,
    UserId: `AIDA${ctx.state.accessKeyId.slice(4)}`,
    Account: SANDBOX_ACCOUNT,
  });
}
