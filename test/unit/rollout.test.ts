import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { isRolledOut } from "../../src/core/health/rollout.js";

const deployment = (status: V1Deployment["status"], generation = 2): V1Deployment => ({
  metadata: { name: "registry-clouddrove", generation },
  status,
});
const settled = {
  observedGeneration: 2,
  replicas: 3,
  updatedReplicas: 3,
  readyReplicas: 3,
  availableReplicas: 3,
};

describe("core/health/rollout", () => {
  it("is rolled out when the latest generation is observed and every replica is updated, ready and available", () => {
    expect(isRolledOut(deployment(settled), 3)).toBe(true);
  });

  it("is not while the controller has not seen the latest change", () => {
    expect(isRolledOut(deployment({ ...settled, observedGeneration: 1 }), 3)).toBe(false);
  });

  it("is not while a replica is not updated, not ready, not available, or an old one remains", () => {
    expect(isRolledOut(deployment({ ...settled, updatedReplicas: 2 }), 3)).toBe(false);
    expect(isRolledOut(deployment({ ...settled, readyReplicas: 2 }), 3)).toBe(false);
    expect(isRolledOut(deployment({ ...settled, availableReplicas: 2 }), 3)).toBe(false);
    expect(isRolledOut(deployment({ ...settled, replicas: 4 }), 3)).toBe(false);
  });

  it("is not for another replica count, nor without a Deployment", () => {
    expect(isRolledOut(deployment(settled), 2)).toBe(false);
    expect(isRolledOut(undefined, 3)).toBe(false);
  });

  it("takes a Deployment scaled to 0 that reports no counts as rolled out to 0", () => {
    expect(isRolledOut(deployment({ observedGeneration: 2 }), 0)).toBe(true);
    expect(isRolledOut(deployment({ observedGeneration: 2 }), 1)).toBe(false);
  });
});
