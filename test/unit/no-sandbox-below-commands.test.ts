/**
 * One code path: below src/commands/ no product file imports the sandbox package or mentions the sandbox.
 * The command layer picks the target (a kubeconfig context, or the sandbox's kubeconfig and AWS
 * environment); the steps, core and adapters work the same for both.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src");

function productFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return productFiles(path);
    return /\.(ts|js|mjs)$/.test(entry.name) ? [relative(SRC, path)] : [];
  });
}

describe("no product code below src/commands knows the sandbox", () => {
  const below = productFiles(SRC).filter(
    (file) => !file.startsWith("commands/") && !file.startsWith("commands\\"),
  );

  it("covers the steps, core, adapters, config and io", () => {
    for (const dir of ["steps/", "core/", "adapters/", "config/", "io/"])
      expect(below.some((f) => f.startsWith(dir))).toBe(true);
    expect(below).toContain("steps/upgrade/bump.ts");
    expect(below).toContain("steps/cluster/facts.ts");
  });

  it("no file imports @clouddrove/sandbox or mentions the sandbox", () => {
    const offenders = below.filter((file) => /sandbox/i.test(readFileSync(join(SRC, file), "utf8")));
    expect(offenders).toEqual([]);
  });

  it("the command layer is where the sandbox is chosen and its AWS environment put in", () => {
    const commands = productFiles(SRC)
      .filter((file) => file.startsWith("commands"))
      .map((file) => readFileSync(join(SRC, file), "utf8"));
    expect(commands.some((text) => text.includes('import("@clouddrove/sandbox")'))).toBe(true);
    expect(commands.some((text) => text.includes("awsEnvironment("))).toBe(true);
  });
});
