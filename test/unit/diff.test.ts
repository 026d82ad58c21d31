import { describe, expect, it } from "vitest";
import { unifiedDiff } from "../../src/core/diff.js";

const labels = { from: "live", to: "rendered" };

describe("unified diff", () => {
  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", labels)).toBe("");
  });

  it("shows a changed line with context", () => {
    const before = ["a", "b", "c", "d", "e", "f", "g", "h"].join("\n");
    const after = ["a", "b", "c", "d", "E", "f", "g", "h"].join("\n");
    expect(unifiedDiff(before, after, labels)).toBe(
      [
        "--- live",
        "+++ rendered",
        "@@ -2,7 +2,7 @@",
        " b",
        " c",
        " d",
        "-e",
        "+E",
        " f",
        " g",
        " h",
        "",
      ].join("\n"),
    );
  });

  it("treats a new object as all additions", () => {
    expect(unifiedDiff("", "x: 1\ny: 2\n", labels)).toBe(
      ["--- live", "+++ rendered", "@@ -0,0 +1,2 @@", "+x: 1", "+y: 2", ""].join("\n"),
    );
  });

  it("splits distant changes into separate hunks", () => {
    const lines = Array.from({ length: 30 }, (_, n) => `line ${n}`);
    const changed = [...lines];
    changed[2] = "changed 2";
    changed[25] = "changed 25";
    const diff = unifiedDiff(lines.join("\n"), changed.join("\n"), labels);
    expect(diff.match(/^@@/gm)).toHaveLength(2);
    expect(diff).toContain("-line 2\n+changed 2");
    expect(diff).toContain("-line 25\n+changed 25");
  });
});
