import { describe, expect, it } from "vitest";
import { lineOfKey } from "../../src/core/yaml/key-line.js";

describe("lineOfKey", () => {
  const text = [
    "namespace: clouddrove",
    "network:",
    "  allowedCidrs:",
    "    - 10.0.0.0/8",
    "  loadBalancer: nlb",
    "storage:",
    "  efs:",
    "    fileSystemId: fs-0123456789abcdef0",
    '  "size": 50Gi',
    "registry: {replicas: 3}",
  ].join("\n");

  it("follows nested block mappings by indentation", () => {
    expect(lineOfKey(text, ["namespace"])).toBe(1);
    expect(lineOfKey(text, ["network", "loadBalancer"])).toBe(5);
    expect(lineOfKey(text, ["storage", "efs", "fileSystemId"])).toBe(8);
    expect(lineOfKey(text, ["storage", "size"])).toBe(9);
  });

  it("gives no line for a key it cannot place rather than a wrong one", () => {
    expect(lineOfKey(text, ["registry", "replicas"])).toBeUndefined();
    expect(lineOfKey(text, ["network", "fileSystemId"])).toBeUndefined();
    expect(lineOfKey(text, ["efs"])).toBeUndefined();
  });
});
