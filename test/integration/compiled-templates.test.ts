/**
 * The build's parsed copy of the registry templates (dist/templates/registry.json) must say exactly what
 * the YAML says, and is used only while it matches the templates' digest.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as source from "../../src/core/render/templates.js";

const builtModule = new URL("../../dist/core/render/templates.js", import.meta.url);

describe("compiled registry templates", () => {
  it("the built copy equals a fresh parse of the YAML and carries the templates' digest", async () => {
    // npm test builds first; the copy is part of what `npm ci` leaves behind.
    expect(existsSync(fileURLToPath(builtModule))).toBe(true);
    const built = (await import(builtModule.href)) as typeof source;
    const compiledPath = fileURLToPath(built.compiledTemplatesUrl);
    expect(existsSync(compiledPath)).toBe(true);
    const compiled = JSON.parse(readFileSync(compiledPath, "utf8"));
    const texts = await Promise.all(source.TEMPLATE_FILES.map(source.readTemplate));
    expect(compiled.digest).toBe(source.templatesDigest(texts));
    // From src/ there is no compiled copy: this is the YAML parsed afresh.
    expect(existsSync(fileURLToPath(source.compiledTemplatesUrl))).toBe(false);
    const parsed = await source.loadTemplateObjects();
    expect(compiled.objects).toEqual(parsed);
    expect(await built.loadTemplateObjects()).toEqual(parsed);
  });

  it("a changed template changes the digest, so a stale copy is not used", () => {
    expect(source.templatesDigest(["a", "b"])).not.toBe(source.templatesDigest(["a", "b "]));
    expect(source.templatesDigest(["ab", ""])).not.toBe(source.templatesDigest(["a", "b"]));
  });
});
