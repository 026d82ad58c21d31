/** chalk is loaded only when colour is possible, and painting with colour before that is a bug caught early. */
import { describe, expect, it } from "vitest";
import { painter, preparePainter } from "../../src/io/paint.js";

describe("painter", () => {
  it("paints nothing without colour, and needs no chalk for that", async () => {
    await preparePainter(false);
    expect(painter(false).red("text")).toBe("text");
    expect(() => painter(true)).toThrow(/preparePainter/);
  });

  it("paints with ANSI colours once chalk is loaded", async () => {
    await preparePainter(true);
    expect(painter(true).red("text")).toBe("\u001b[31mtext\u001b[39m");
    expect(painter(false).bold("text")).toBe("text");
  });
});
