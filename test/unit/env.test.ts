import { describe, expect, it } from "vitest";
import { canPrompt, colorEnabled, isCI, rendererKind } from "../../src/io/env.js";

const terminal = { stdinIsTTY: true, stderrIsTTY: true, env: {} };

describe("interactivity is decided in one place", () => {
  it("prompts at a terminal with nothing against it", () => {
    expect(canPrompt(terminal, {})).toBe(true);
  });
  it.each([
    ["stdin is not a terminal", { ...terminal, stdinIsTTY: false }, {}],
    ["stderr is not a terminal", { ...terminal, stderrIsTTY: false }, {}],
    ["CI is set", { ...terminal, env: { CI: "true" } }, {}],
    ["--yes", terminal, { yes: true }],
    ["--no-input", terminal, { noInput: true }],
    ["-o json", terminal, { output: "json" as const }],
  ])("never prompts when %s", (_why, facts, flags) => {
    expect(canPrompt(facts, flags)).toBe(false);
  });
  it("treats CI=false and CI=0 as unset", () => {
    expect(isCI({ CI: "false" })).toBe(false);
    expect(isCI({ CI: "0" })).toBe(false);
    expect(isCI({ CI: "1" })).toBe(true);
  });
});

describe("colour and renderer", () => {
  it("turns colour off for NO_COLOR, --no-color, TERM=dumb and a non-TTY stderr", () => {
    expect(colorEnabled(terminal, {})).toBe(true);
    expect(colorEnabled({ ...terminal, env: { NO_COLOR: "1" } }, {})).toBe(false);
    expect(colorEnabled(terminal, { color: false })).toBe(false);
    expect(colorEnabled({ ...terminal, env: { TERM: "dumb" } }, {})).toBe(false);
    expect(colorEnabled({ ...terminal, stderrIsTTY: false }, {})).toBe(false);
  });
  it("uses the animated renderer only at a terminal outside CI, and none under -o json", () => {
    expect(rendererKind(terminal, {})).toBe("default");
    expect(rendererKind({ ...terminal, env: { CI: "true" } }, {})).toBe("verbose");
    expect(rendererKind({ ...terminal, stderrIsTTY: false }, {})).toBe("verbose");
    expect(rendererKind(terminal, { output: "json" })).toBe("silent");
  });
});
