/**
 * A command that reaches S3 prints its own result or error, not the AWS SDK's warning that its future
 * releases will need Node 22 (clouddrove supports Node 20 and pins its SDK; see adapters/aws/node-warning).
 */
import { describe, expect, it } from "vitest";
import { runBuiltCli } from "../support/built-cli.js";

describe("the AWS SDK's Node version warning", () => {
  it("is not printed by a command that creates an S3 client", () => {
    // Port 9 (discard) refuses the connection: the client is created, the request fails at once.
    const run = runBuiltCli(
      ["--kubeconfig", "/nonexistent/kubeconfig", "backup", "list", "--backup-bucket", "my-backups"].concat([
        "--backup-region",
        "eu-west-1",
        "--backup-endpoint",
        "http://127.0.0.1:9",
      ]),
      { env: { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" } },
    );
    expect(run.stderr).toContain("Cannot list s3://my-backups/");
    expect(run.stderr).not.toContain("NodeVersionSupportWarning");
  });
});
