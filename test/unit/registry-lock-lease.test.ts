/**
 * The lock's Lease as data: who holds it and until when (renewTime + leaseDurationSeconds), what the
 * refusal says, and the upgrade's check tags (unique per run; the newest few kept).
 */
import { describe, expect, it } from "vitest";
import { heldLease, lockHeldError, lockState, renewedLease } from "../../src/core/lock/lease.js";
import { checkTag, checkTagsToRemove } from "../../src/core/upgrade/check-tags.js";

const holder = {
  who: "alice@laptop",
  pid: 4242,
  command: "upgrade --node n1",
  identity: "alice@laptop/4242/ab",
};
const at = new Date("2026-12-06T23:00:00.000Z");

describe("the lock's lease", () => {
  it("is held for leaseDurationSeconds after its last renewal, then expired", () => {
    const lease = heldLease(holder, "clouddrove", at);
    expect(lease.spec?.acquireTime).toBe("2026-12-06T23:00:00.000000Z");
    expect(lockState(lease, new Date(at.getTime() + 59_000)).kind).toBe("held");
    expect(lockState(lease, new Date(at.getTime() + 60_000))).toMatchObject({
      kind: "expired",
      holder: { who: "alice@laptop", pid: "4242", command: "upgrade --node n1" },
    });
    const renewed = renewedLease(lease, new Date(at.getTime() + 50_000));
    expect(lockState(renewed, new Date(at.getTime() + 100_000)).kind).toBe("held");
    expect(lockState(undefined, at).kind).toBe("free");
    expect(lockState({ spec: { holderIdentity: "" } }, at).kind).toBe("free");
  });

  it("counts the transitions and keeps the resourceVersion it replaces", () => {
    const previous = {
      metadata: { resourceVersion: "17" },
      spec: { holderIdentity: "x", leaseTransitions: 2 },
    };
    const lease = heldLease(holder, "clouddrove", at, previous);
    expect(lease.metadata?.resourceVersion).toBe("17");
    expect(lease.spec?.leaseTransitions).toBe(3);
  });

  it("refuses naming the holder, since when, the command and the flag that waits", () => {
    const state = lockState(heldLease(holder, "clouddrove", at), at);
    if (state.kind !== "held") throw new Error("expected a held lease");
    const error = lockHeldError(state.holder, "clouddrove", undefined);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      "Another clouddrove run is changing the registry in namespace clouddrove: alice@laptop (pid 4242) running `clouddrove upgrade --node n1` since 2026-12-06T23:00:00.000000Z. Nothing was changed.",
    );
    expect(error.hint).toContain("--wait-for-lock DURATION");
    expect(lockHeldError(state.holder, "clouddrove", "2m").message).toContain("(waited 2m)");
  });
});

describe("check tags", () => {
  it("carry the time and a unique part, and only the oldest check tags beyond the newest few go", () => {
    expect(checkTag(at, "a1b2c3")).toBe("before-20261206T230000Z-a1b2c3");
    const tags = [
      "before-20261206T230000Z-a1",
      "latest",
      "before-20250101T000000", // the format of earlier versions
      "before-20261207T000000Z-b2",
      "before-20260101T000000Z-c3",
    ];
    expect(checkTagsToRemove(tags, 2)).toEqual(["before-20250101T000000", "before-20260101T000000Z-c3"]);
    expect(checkTagsToRemove(tags, 10)).toEqual([]);
  });
});
