import { describe, expect, it } from "vitest";
import {
  checkEksctlVersion,
  checkKubernetesVersion,
  chooseZones,
  compareVersions,
  usableZones,
  type ZoneInfo,
} from "../../src/core/cluster/preflight.js";
import { usageError } from "../support/errors.js";

const zone = (name: string, state = "available", type = "availability-zone"): ZoneInfo => ({
  name,
  state,
  type,
});
const euWest1 = [zone("eu-west-1a"), zone("eu-west-1b"), zone("eu-west-1c")];

describe("zones", () => {
  it("uses the region's first three available zones when none are given", () => {
    const offered = [zone("us-east-1c"), zone("us-east-1a"), zone("us-east-1b"), zone("us-east-1d")];
    expect(chooseZones("us-east-1", offered, [])).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
  });

  it("skips impaired zones and local zones", () => {
    const offered = [
      zone("us-west-2a"),
      zone("us-west-2b", "impaired"),
      zone("us-west-2-lax-1a", "available", "local-zone"),
      zone("us-west-2c"),
      zone("us-west-2d"),
    ];
    expect(usableZones(offered)).toEqual(["us-west-2a", "us-west-2c", "us-west-2d"]);
  });

  it("refuses a region with two zones, naming them", () => {
    const error = usageError(() => chooseZones("ca-west-1", [zone("ca-west-1a"), zone("ca-west-1b")], []));
    expect(error.message).toContain("offers 2 available zone(s) (ca-west-1a, ca-west-1b)");
    expect(error.hint).toContain("at least three");
  });

  it("refuses a zone from another region and suggests the region's own", () => {
    const error = usageError(() =>
      chooseZones("eu-west-1", euWest1, ["eu-west-1a", "eu-west-1b", "us-east-1a"]),
    );
    expect(error.message).toContain("us-east-1a is not an available zone of region eu-west-1");
    expect(error.hint).toContain("--zones eu-west-1a,eu-west-1b,eu-west-1c");
  });

  it("keeps requested zones in the order given", () => {
    const offered = [...euWest1, zone("eu-west-1d")];
    expect(chooseZones("eu-west-1", offered, ["eu-west-1d", "eu-west-1a", "eu-west-1b"])).toEqual([
      "eu-west-1d",
      "eu-west-1a",
      "eu-west-1b",
    ]);
  });
});

describe("versions", () => {
  it("compares dotted versions numerically", () => {
    expect(compareVersions("1.9", "1.10")).toBe(-1);
    expect(compareVersions("0.215.0", "0.190.0")).toBe(1);
    expect(compareVersions("1.33", "1.33.0")).toBe(0);
  });

  it("accepts a Kubernetes version EKS offers and refuses one it does not", () => {
    expect(() => checkKubernetesVersion("1.33", ["1.31", "1.32", "1.33"])).not.toThrow();
    const error = usageError(() => checkKubernetesVersion("1.29", ["1.31", "1.32", "1.33"]));
    expect(error.hint).toContain("1.31, 1.32, 1.33");
  });

  it("refuses long-unsupported versions even without AWS's list", () => {
    expect(usageError(() => checkKubernetesVersion("1.21")).message).toContain("no longer supported");
    expect(() => checkKubernetesVersion("1.40")).not.toThrow();
  });

  it("reads eksctl's version and refuses one that is too old, with an install hint", () => {
    expect(checkEksctlVersion("0.215.0\n")).toBe("0.215.0");
    expect(checkEksctlVersion("0.216.0-dev+5f2b4c.2025-11-01T10:00:00Z")).toBe("0.216.0");
    expect(usageError(() => checkEksctlVersion("0.147.0")).hint).toContain("eksctl.io/installation");
    expect(usageError(() => checkEksctlVersion("garbage")).message).toContain("Could not read");
  });
});
