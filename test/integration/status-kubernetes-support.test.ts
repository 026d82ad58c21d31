/**
 * `status` warns when the cluster's Kubernetes version is in EKS extended support (or leaves standard
 * support within 60 days): the version from the API server, the calendar from EKS DescribeClusterVersions
 * (here the sandbox's AWS endpoint, whose calendar has 1.30 in extended support and 1.31 leaving standard
 * support within the month). Without a region or AWS it says nothing and fails nothing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { awsEnvironment } from "../../sandbox/src/index.js";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { cleanEnv, runCli } from "../support/run-cli.js";

const sandboxes: TestSandbox[] = [];
afterEach(async () => {
  for (const sandbox of sandboxes.splice(0)) await sandbox.stop();
});

async function statusOn(kubernetesVersion: string, env: "aws" | "no-aws") {
  const t = await startTestSandbox({ kubernetesVersion });
  sandboxes.push(t);
  const run = await runCli(["--kubeconfig", t.kubeconfigPath, "-o", "json", "status"], {
    env: cleanEnv({ CI: "true", ...(env === "aws" ? awsEnvironment(t.sandbox.aws) : {}) }),
    cwd: t.dir,
  });
  const warnings = (JSON.parse(run.stdout).warnings as string[]).filter((w) => w.startsWith("Kubernetes "));
  return { run, warnings };
}

describe("status and EKS's support calendar", () => {
  it("warns of extended support and its cost when EKS says the version is in it", async () => {
    const { warnings } = await statusOn("1.30", "aws");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("Kubernetes 1.30 is in EKS extended support");
    expect(warnings[0]).toContain("$0.60 per cluster-hour");
    expect(warnings[0]).toContain("Upgrade the cluster");
  });

  it("warns before standard support ends, and not at all for a version well inside it", async () => {
    const leaving = await statusOn("1.31", "aws");
    expect(leaving.warnings).toHaveLength(1);
    expect(leaving.warnings[0]).toMatch(/^Kubernetes 1\.31 leaves EKS standard support on \d{4}-\d{2}-\d{2}/);
    const current = await statusOn("1.33", "aws");
    expect(current.warnings).toEqual([]);
  });

  it("says nothing when AWS cannot be asked (no region), and the status is as before", async () => {
    const { run, warnings } = await statusOn("1.30", "no-aws");
    expect(warnings).toEqual([]);
    expect(run.stderr).not.toContain("EKS");
    // Nothing is deployed: unhealthy (exit 1), as without the calendar; not a failure of the look-up.
    expect(run.code).toBe(1);
  });
});
