/**
 * The AWS side of clouddrove: one object with the SDK v3 clients for a region (STS, EC2, EKS, EFS) and the
 * calls `cluster` needs (see src/adapters/aws/*). The SDK is loaded when this module is, and commands
 * import it only inside their actions. Tests fake the clients with aws-sdk-client-mock.
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { EFSClient } from "@aws-sdk/client-efs";
import { EKSClient } from "@aws-sdk/client-eks";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { aws } from "./aws/errors.js";
import { silenceSdkNodeVersionWarning } from "./aws/node-warning.js";

export * from "./aws/ec2.js";
export * from "./aws/efs.js";
export * from "./aws/eks.js";
export { isAwsError, mapAwsError } from "./aws/errors.js";
export { pollUntil } from "./aws/poll.js";

export interface AwsClients {
  region: string;
  sts: STSClient;
  ec2: EC2Client;
  eks: EKSClient;
  efs: EFSClient;
}

export function awsClients(region: string): AwsClients {
  silenceSdkNodeVersionWarning();
  // A few retries with the SDK's own backoff cover throttling; the rest is mapped by mapAwsError.
  const config = { region, maxAttempts: 4 };
  return {
    region,
    sts: new STSClient(config),
    ec2: new EC2Client(config),
    eks: new EKSClient(config),
    efs: new EFSClient(config),
  };
}

/** Who clouddrove acts as: proves credentials resolve before anything else is asked. */
export async function callerIdentity(clients: AwsClients): Promise<{ account: string; arn: string }> {
  const answer = await aws("checking the AWS credentials", () =>
    clients.sts.send(new GetCallerIdentityCommand({})),
  );
  return { account: answer.Account ?? "", arn: answer.Arn ?? "" };
}
