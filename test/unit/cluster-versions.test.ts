// src/core/cluster/versions.ts: which version a new cluster gets, and when its support costs money.
import { describe, expect, it } from "vitest";
import {
  defaultVersionForNewClusters,
  type EksVersion,
  supportWarning,
  versionLabel,
} from "../../src/core/cluster/versions.js";

const now = new Date("2026-12-06T12:00:00Z");
const v = (version: string, support: EksVersion["support"], extra: Partial<EksVersion> = {}): EksVersion => ({
  version,
  support,
  isDefault: false,
  ...extra,
});

describe("defaultVersionForNewClusters", () => {
  it("is the version EKS names as its default", () => {
    expect(
      defaultVersionForNewClusters([
        v("1.34", "extended"),
        v("1.35", "standard", { isDefault: true }),
        v("1.36", "standard"),
      ]),
    ).toBe("1.35");
  });

  it("is the newest in standard support when EKS names none (or names one that is no longer standard)", () => {
    expect(
      defaultVersionForNewClusters([v("1.9", "extended"), v("1.36", "standard"), v("1.35", "standard")]),
    ).toBe("1.36");
    expect(
      defaultVersionForNewClusters([v("1.33", "extended", { isDefault: true }), v("1.35", "standard")]),
    ).toBe("1.35");
  });

  it("is undefined when nothing is in standard support", () => {
    expect(defaultVersionForNewClusters([v("1.33", "extended")])).toBeUndefined();
    expect(defaultVersionForNewClusters([])).toBeUndefined();
  });
});

describe("supportWarning", () => {
  const versions = [
    v("1.33", "extended", { endOfExtendedSupport: "2027-07-29T00:00:00.000Z" }),
    v("1.34", "standard", { endOfStandardSupport: "2027-01-20T00:00:00.000Z" }),
    v("1.35", "standard", { isDefault: true, endOfStandardSupport: "2027-03-27T00:00:00.000Z" }),
  ];

  it("names the cost and the way out of extended support", () => {
    expect(supportWarning("1.33", versions, now)).toBe(
      "Kubernetes 1.33 is in EKS extended support until 2027-07-29: EKS bills $0.60 per cluster-hour in extended support instead of $0.10, about $365 a month more per cluster. Upgrade the cluster (one minor at a time) towards 1.35: control plane, add-ons, then the node groups.",
    );
  });

  it("warns within 60 days of the end of standard support, with the date and the days left", () => {
    expect(supportWarning("1.34", versions, now)).toMatch(
      /^Kubernetes 1\.34 leaves EKS standard support on 2027-01-20 \(in 45 day\(s\)\); after that EKS bills \$0\.60/,
    );
  });

  it("says nothing further ahead, or for a version EKS does not list", () => {
    expect(supportWarning("1.35", versions, now)).toBeUndefined();
    expect(supportWarning("1.99", versions, now)).toBeUndefined();
  });
});

describe("versionLabel", () => {
  it("marks EKS's default and prices extended support", () => {
    expect(versionLabel(v("1.35", "standard", { isDefault: true }))).toBe("1.35 (EKS default)");
    expect(versionLabel(v("1.33", "extended"))).toBe("1.33 (extended support: $0.60/cluster-hour)");
    expect(versionLabel(v("1.36", "standard"))).toBe("1.36");
  });
});
