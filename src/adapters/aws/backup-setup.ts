/**
 * The clients `cluster create` makes the backup bucket and role with: S3 (path-style when an endpoint is
 * configured, as an S3-compatible server needs) and IAM, configured like the others from
 * the command's environment (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_IAM). Their own module, loaded only
 * by the commands that provision backups.
 */
import { IAMClient } from "@aws-sdk/client-iam";
import { S3Client } from "@aws-sdk/client-s3";
import { awsClientConfig } from "./config.js";
import { silenceSdkNodeVersionWarning } from "./node-warning.js";

export interface BackupSetupClients {
  region: string;
  s3: S3Client;
  iam: IAMClient;
  close(): void;
}

export function backupSetupClients(region: string, env: NodeJS.ProcessEnv): BackupSetupClients {
  silenceSdkNodeVersionWarning();
  const config = awsClientConfig("S3", region, env);
  const s3 = new S3Client({ ...config, ...(config.endpoint ? { forcePathStyle: true } : {}) });
  const iam = new IAMClient(awsClientConfig("IAM", region, env));
  return {
    region,
    s3,
    iam,
    close: () => {
      s3.destroy();
      iam.destroy();
    },
  };
}
