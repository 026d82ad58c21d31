import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  explainEksctlFailure,
  parseEksctlLine,
  retryZones,
  zonesFromCapacityError,
} from "../../src/core/cluster/eksctl-output.js";
import { CredentialsError, ExitCode, OperationError, UsageError } from "../../src/errors.js";

const unsupportedAz = readFileSync(
  new URL("../fixtures/eksctl/logs/unsupported-az.log", import.meta.url),
  "utf8",
)
  .replaceAll("{{version}}", "0.215.0")
  .replaceAll("{{region}}", "us-east-1")
  .replaceAll("{{name}}", "prod")
  .replaceAll("{{bad_zone}}", "us-east-1e")
  .replaceAll("{{accepted_zones}}", "us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f");

describe("eksctl log lines", () => {
  it("tells info, success, warning, error and debug apart", () => {
    expect(parseEksctlLine("2024-01-01 12:00:00 [ℹ]  using region eu-west-1")).toEqual({
      level: "info",
      time: "2024-01-01 12:00:00",
      message: "using region eu-west-1",
    });
    expect(
      parseEksctlLine('2024-01-01 12:16:41 [✔]  EKS cluster "c" in "eu-west-1" region is ready').level,
    ).toBe("success");
    expect(parseEksctlLine("2024-01-01 12:11:05 [!]  recommended policies were found").level).toBe("warning");
    expect(parseEksctlLine("2024-01-01 12:01:05 [✖]  ResourceNotReady: failed").level).toBe("error");
    expect(parseEksctlLine("2024-01-01 12:01:05 [▶]  role ARN for the current session").level).toBe("debug");
  });

  it("keeps lines without eksctl's prefix as plain text and strips colour", () => {
    expect(parseEksctlLine("    wait for control plane to become ready,")).toEqual({
      level: "plain",
      message: "wait for control plane to become ready,",
    });
    expect(parseEksctlLine("\u001b[36m2024-01-01 12:00:00 [ℹ]  hi\u001b[0m").message).toBe("hi");
  });
});

describe("eksctl failures become hints", () => {
  const lines = unsupportedAz.split("\n").filter(Boolean).map(parseEksctlLine);

  it("UnsupportedAvailabilityZoneException: rerun with the zones EKS names", () => {
    const error = explainEksctlFailure({
      command: "eksctl create cluster -f c.yaml",
      exitCode: 1,
      lines,
      stderr: 'Error: failed to create cluster "prod"\n',
      cluster: "prod",
      region: "us-east-1",
      zones: ["us-east-1a", "us-east-1e", "us-east-1b"],
    });
    expect(error).toBeInstanceOf(OperationError);
    expect(error.exitCode).toBe(ExitCode.failed);
    expect(error.hint).toContain("--zones us-east-1a,us-east-1b,us-east-1c");
    expect(error.hint).toContain("clouddrove cluster delete --cluster-name prod --region us-east-1");
  });

  it("reads the zones out of EKS's message and keeps the user's good zones first", () => {
    expect(zonesFromCapacityError(unsupportedAz)).toEqual([
      "us-east-1a",
      "us-east-1b",
      "us-east-1c",
      "us-east-1d",
      "us-east-1f",
    ]);
    expect(
      retryZones(["us-east-1d", "us-east-1e", "us-east-1f"], ["us-east-1a", "us-east-1d", "us-east-1f"]),
    ).toEqual(["us-east-1d", "us-east-1f", "us-east-1a"]);
  });

  it("an eksctl too old for the version is a usage error naming the upgrade", () => {
    const error = explainEksctlFailure({
      command: "eksctl create cluster -f c.yaml",
      lines: [],
      stderr: "Error: invalid version, supported values: 1.22, 1.23, 1.24, 1.25, 1.26, 1.27\n",
    });
    expect(error).toBeInstanceOf(UsageError);
    expect(error.hint).toContain("upgrade eksctl");
  });

  it("a version EKS no longer lists is a usage error, in eksctl 0.215's words", () => {
    const error = explainEksctlFailure({
      command: "eksctl create cluster -f c.yaml",
      lines: [],
      stderr:
        "Error: resolving cluster version: invalid version, 1.29 is no longer supported, supported values: 1.31, 1.32, 1.33, 1.34\nsee also: https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html\n",
    });
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      "eksctl refused the Kubernetes version: resolving cluster version: invalid version, 1.29 is no longer supported, supported values: 1.31, 1.32, 1.33, 1.34",
    );
    expect(error.hint).toContain("--kubernetes-version");
  });

  it("credential failures are exit 4", () => {
    const error = explainEksctlFailure({
      command: "eksctl create cluster -f c.yaml",
      lines: [],
      stderr:
        "Error: checking AWS STS access – cannot get role ARN for current session: get credentials: failed to refresh cached credentials, no EC2 IMDS role found\n",
    });
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error.exitCode).toBe(ExitCode.credentials);
  });

  it("Elastic IP exhaustion says why three are needed", () => {
    const error = explainEksctlFailure({
      command: "eksctl create cluster -f c.yaml",
      lines: [
        parseEksctlLine(
          '2024-01-01 12:00:00 [✖]  AWS::EC2::EIP/NATIP: CREATE_FAILED – "AddressLimitExceeded"',
        ),
      ],
      stderr: 'Error: failed to create cluster "c"\n',
    });
    expect(error.message).toContain("Elastic IP");
    expect(error.hint).toContain("three Elastic IPs");
  });

  it("a timeout says eksctl was stopped and how to continue", () => {
    const error = explainEksctlFailure({
      command: "eksctl create cluster -f c.yaml",
      lines: [],
      stderr: "",
      timedOut: true,
      timeoutText: "45m",
    });
    expect(error.message).toContain("did not finish within 45m");
    expect(error.hint).toContain("--eksctl-timeout");
  });

  it("anything else keeps eksctl's own words and points at the stacks", () => {
    const error = explainEksctlFailure({
      command: "eksctl delete cluster --name c --region eu-west-1 --wait",
      lines: [parseEksctlLine("2024-01-01 12:00:00 [✖]  waiter state transitioned to Failure")],
      stderr: 'Error: failed to delete cluster "c"\n',
      cluster: "c",
      region: "eu-west-1",
    });
    expect(error.message).toBe(
      'eksctl delete cluster --name c --region eu-west-1 --wait failed: failed to delete cluster "c"',
    );
    expect(error.details).toEqual(["waiter state transitioned to Failure"]);
    expect(error.hint).toContain("eksctl utils describe-stacks --region eu-west-1 --cluster c");
  });
});
