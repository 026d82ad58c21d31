// src/core/kubeconfig-paths.ts: the files kubectl reads when no --kubeconfig is given.
import { describe, expect, it } from "vitest";
import { defaultKubeconfigPaths } from "../../src/core/kubeconfig-paths.js";

describe("defaultKubeconfigPaths", () => {
  it("takes every file KUBECONFIG lists, in order, skipping empty entries", () => {
    expect(defaultKubeconfigPaths({ KUBECONFIG: "/a/config::/b/config", HOME: "/home/u" })).toEqual([
      "/a/config",
      "/b/config",
    ]);
  });

  it("falls back to ~/.kube/config when KUBECONFIG is unset or empty", () => {
    expect(defaultKubeconfigPaths({ HOME: "/home/u" })).toEqual(["/home/u/.kube/config"]);
    expect(defaultKubeconfigPaths({ KUBECONFIG: "", HOME: "/home/u" })).toEqual(["/home/u/.kube/config"]);
  });

  it("names no file without KUBECONFIG and without a home directory", () => {
    expect(defaultKubeconfigPaths({})).toEqual([]);
  });
});
