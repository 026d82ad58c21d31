import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { hasReadyCondition, isPodReady } from "../../src/core/health/pod-ready.js";

// The server sends RFC 3339 strings where the models say Date (see adapters/kube-kinds.ts).
const pod = (ready: string | undefined, deleting = false): V1Pod => ({
  metadata: {
    name: "registry-0",
    ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" as unknown as Date } : {}),
  },
  status: {
    conditions: [
      { type: "PodScheduled", status: "True" },
      ...(ready === undefined ? [] : [{ type: "Ready", status: ready }]),
    ],
  },
});

describe("core/health/pod-ready", () => {
  it("a pod whose Ready condition is True and that is not being deleted is ready", () => {
    expect(isPodReady(pod("True"))).toBe(true);
  });

  it("a terminating pod is not ready even while it still reports Ready", () => {
    expect(hasReadyCondition(pod("True", true))).toBe(true);
    expect(isPodReady(pod("True", true))).toBe(false);
  });

  it("a pod with Ready False, or no Ready condition yet, is not ready", () => {
    expect(isPodReady(pod("False"))).toBe(false);
    expect(isPodReady(pod(undefined))).toBe(false);
    expect(isPodReady({ metadata: { name: "new" } })).toBe(false);
  });

  it("reads a node's Ready condition, and nothing when there is no object", () => {
    const node = (status: string): V1Node => ({ status: { conditions: [{ type: "Ready", status }] } });
    expect(hasReadyCondition(node("True"))).toBe(true);
    expect(hasReadyCondition(node("Unknown"))).toBe(false);
    expect(hasReadyCondition(undefined)).toBe(false);
  });
});
