/**
 * `cluster create`'s backup bucket and IRSA role (steps/cluster/backup.ts through adapters/aws/s3-bucket.ts
 * and iam-role.ts) with the real AWS SDK v3 clients against moto's S3, IAM and EKS: the bucket protected
 * and kept on a re-run, a name another account holds refused (exit 2, nothing made), the role's
 * documents, and a cluster without an OIDC provider refused with the command that registers one.
 */
import { CreateClusterCommand } from "@aws-sdk/client-eks";
import {
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  GetRoleCommand,
  IAMClient,
} from "@aws-sdk/client-iam";
import { CreateBucketCommand, HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsClients, awsClients, describeCluster } from "../../src/adapters/aws.js";
import { ExitCode } from "../../src/errors.js";
import { backupSetupScenario, runBackupSteps } from "../support/backup-setup-scenario.js";
import { MOTO_ACCOUNT, type MotoServer, startMoto } from "../support/moto.js";
import { configWith } from "../support/render-fixtures.js";

const REGION = "eu-west-1";
let moto: MotoServer;
let clients: AwsClients;
let env: NodeJS.ProcessEnv;

/** A client's settings for moto with its test keys (the default account). */
function motoAt() {
  return {
    region: REGION,
    endpoint: moto.endpoint,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  };
}

async function motoCluster(name: string): Promise<string> {
  await clients.eks.send(
    new CreateClusterCommand({
      name,
      version: "1.33",
      roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/eks-cluster`,
      resourcesVpcConfig: { subnetIds: ["subnet-0a", "subnet-0b"] },
    }),
  );
  return (await describeCluster(clients.eks, name))?.oidcIssuer as string;
}

beforeAll(async () => {
  moto = await startMoto(REGION);
  env = { PATH: process.env.PATH, ...moto.env };
  clients = awsClients(REGION, env);
});
afterAll(async () => {
  await moto?.stop();
});

describe("the backup bucket and role against moto", () => {
  it("makes the bucket protected and the IRSA role, and a second run keeps both", async () => {
    const issuer = await motoCluster("clouddrove");
    expect(issuer).toMatch(/^https:\/\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\//);
    // What eksctl's iam.withOIDC registers for the cluster.
    const iam = new IAMClient(motoAt());
    await iam.send(
      new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ["sts.amazonaws.com"] }),
    );
    iam.destroy();
    await backupSetupScenario({
      clients,
      env,
      account: MOTO_ACCOUNT,
      cluster: "clouddrove",
      region: REGION,
      config: configWith("namespace=registry", "backup.prefix=team/"),
    });
  });

  it("refuses a bucket name another account holds: exit 2, the fix named, no role made", async () => {
    await motoCluster("taken");
    // moto maps the keys AssumeRole hands out to the role's account: a second account.
    const sts = new STSClient(motoAt());
    const assumed = await sts.send(
      new AssumeRoleCommand({ RoleArn: "arn:aws:iam::111111111111:role/other", RoleSessionName: "other" }),
    );
    sts.destroy();
    const other = new S3Client({
      region: REGION,
      endpoint: moto.endpoint,
      forcePathStyle: true,
      credentials: {
        accessKeyId: assumed.Credentials?.AccessKeyId as string,
        secretAccessKey: assumed.Credentials?.SecretAccessKey as string,
        sessionToken: assumed.Credentials?.SessionToken as string,
      },
    });
    await other.send(
      new CreateBucketCommand({
        Bucket: "someone-elses-bucket",
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );
    other.destroy();
    const config = configWith("backup.bucket=someone-elses-bucket");
    const refused = await runBackupSteps({
      clients,
      env,
      account: MOTO_ACCOUNT,
      cluster: "taken",
      region: REGION,
      config,
    }).catch((error: unknown) => error);
    expect(refused).toMatchObject({
      exitCode: ExitCode.usage,
      message: expect.stringContaining("someone-elses-bucket is taken by another AWS account"),
      hint: expect.stringContaining("--backup-bucket NAME"),
    });
    const iam = new IAMClient(motoAt());
    await expect(
      iam.send(new GetRoleCommand({ RoleName: `clouddrove-backup-${REGION}-taken` })),
    ).rejects.toMatchObject({
      name: expect.stringMatching(/^NoSuchEntity/),
    });
    iam.destroy();
  });

  it("a cluster without an IAM OIDC provider: the bucket is made, the role refused with the fix", async () => {
    const issuer = await motoCluster("no-oidc");
    // moto gives every cluster the same issuer: the provider registered for the first one is removed.
    const iam = new IAMClient(motoAt());
    await iam.send(
      new DeleteOpenIDConnectProviderCommand({
        OpenIDConnectProviderArn: `arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/${issuer.replace("https://", "")}`,
      }),
    );
    iam.destroy();
    const config = configWith();
    const refused = await runBackupSteps({
      clients,
      env,
      account: MOTO_ACCOUNT,
      cluster: "no-oidc",
      region: REGION,
      config,
    }).catch((error: unknown) => error);
    expect(refused).toMatchObject({
      exitCode: ExitCode.failed,
      message: expect.stringContaining("IAM has no OIDC provider for cluster no-oidc"),
      hint: expect.stringContaining(
        "eksctl utils associate-iam-oidc-provider --cluster no-oidc --region eu-west-1 --approve",
      ),
    });
    const s3 = new S3Client({ ...motoAt(), forcePathStyle: true });
    await s3.send(new HeadBucketCommand({ Bucket: `clouddrove-backup-${MOTO_ACCOUNT}-${REGION}-no-oidc` }));
    s3.destroy();
  });
});
