import { describe, expect, it } from "vitest";
import {
  fieldValue,
  formatSelector,
  matchesRequirements,
  parseFieldSelector,
  parseLabelSelector,
  selectorMatches,
} from "../../src/selectors.js";
import { ApiError, type KubeObject } from "../../src/types.js";

const labels = { app: "registry", tier: "backend", "topology.kubernetes.io/zone": "eu-west-1a" };

function matches(selector: string, own: Record<string, string> | undefined = labels): boolean {
  return matchesRequirements(parseLabelSelector(selector), own);
}

describe("label selectors", () => {
  it("supports =, == and !=", () => {
    expect(matches("app=registry")).toBe(true);
    expect(matches("app==registry")).toBe(true);
    expect(matches("app!=registry")).toBe(false);
    expect(matches("app!=web")).toBe(true);
    expect(matches("missing!=x")).toBe(true);
  });

  it("supports in, notin, exists and !key, combined with commas", () => {
    expect(matches("tier in (frontend, backend)")).toBe(true);
    expect(matches("tier notin (frontend,backend)")).toBe(false);
    expect(matches("missing notin (a)")).toBe(true);
    expect(matches("app")).toBe(true);
    expect(matches("!app")).toBe(false);
    expect(matches("!missing,app=registry,topology.kubernetes.io/zone in (eu-west-1a,eu-west-1b)")).toBe(
      true,
    );
    expect(matches("app=registry,tier=frontend")).toBe(false);
  });

  it("matches everything when empty and rejects bad syntax with 400", () => {
    expect(matches("")).toBe(true);
    const error = (() => {
      try {
        parseLabelSelector("app=(bad");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe(400);
  });

  it("evaluates LabelSelector objects from specs", () => {
    const selector = {
      matchLabels: { app: "registry" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["backend"] },
        { key: "legacy", operator: "DoesNotExist" },
      ],
    };
    expect(selectorMatches(selector, labels)).toBe(true);
    expect(selectorMatches(selector, { ...labels, legacy: "yes" })).toBe(false);
    expect(selectorMatches({}, labels)).toBe(true);
    expect(formatSelector(selector)).toBe("app=registry,tier in (backend),!legacy");
  });
});

describe("field selectors", () => {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-1", namespace: "default" },
    spec: { nodeName: "node-a" },
    status: { phase: "Running" },
  } as KubeObject;

  it("reads the fields real servers support, per kind", () => {
    const requirements = parseFieldSelector(
      "Pod",
      "spec.nodeName=node-a,status.phase!=Succeeded,metadata.name==web-1",
    );
    expect(requirements).toHaveLength(3);
    expect(fieldValue(pod, "spec.nodeName")).toBe("node-a");
    expect(fieldValue({ ...pod, spec: {} } as KubeObject, "spec.nodeName")).toBe("");
  });

  it("rejects unsupported fields with the real message", () => {
    expect(() => parseFieldSelector("Pod", "spec.containers=x")).toThrow(
      "field label not supported: spec.containers",
    );
    expect(() => parseFieldSelector("ConfigMap", "spec.nodeName=x")).toThrow(ApiError);
  });
});
