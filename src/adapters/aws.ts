/**
 * The AWS side of clouddrove: one object with the SDK v3 clients for a region (STS, EC2, EKS, EFS) and the
 * calls `cluster`, `deploy` and `upgrade` need (see src/adapters/aws/*), configured from the command's
 * environment (aws/config.ts). The SDK is loaded when this module is, and commands
 * import it only inside their actions. Tests fake the clients with aws-sdk-client-mock.
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { EFSClient } from "@aws-sdk/client-efs";
import { EKSClient } from "@aws-sdk/client-eks";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { awsClientConfig } from "./aws/config.js";
import { aws } from "./aws/errors.js";
import { silenceSdkNodeVersionWarning } from "./aws/node-warning.js";

export { awsClientConfig, configuredEndpoint, staticCredentials } from "./aws/config.js";
export * from "./aws/ec2.js";
export * from "./aws/efs.js";
export * from "./aws/eks.js";
export * from "./aws/eks-updates.js";
export { isAwsError, mapAwsError } from "./aws/errors.js";
export { pollUntil } from "./aws/poll.js";

export interface AwsClients {
  region: string;
  sts: STSClient;
  ec2: EC2Client;
  eks: EKSClient;
  efs: EFSClient;
}

/**
 * The clients for `region`, configured from `env` — the command's environment (ctx.io.env): its
 * endpoints (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>) and credentials.
 */
export function awsClients(region: string, env: NodeJS.ProcessEnv): AwsClients {
  silenceSdkNodeVersionWarning();
  return {
    region,
    sts: new STSClient(awsClientConfig("STS", region, env)),
    ec2: new EC2Client(awsClientConfig("EC2", region, env)),
    eks: new EKSClient(awsClientConfig("EKS", region, env)),
    efs: new EFSClient(awsClientConfig("EFS", region, env)),
  };
}

/** Who clouddrove acts as: proves credentials resolve before anything else is asked. */
export async function callerIdentity(clients: AwsClients): Promise<{ account: string; arn: string }> {
  const answer = await aws("checking the AWS credentials", () =>
    clients.sts.send(new GetCallerIdentityCommand({})),
  );
  return { account: answer.Account ?? "", arn: answer.Arn ?? "" };
}
