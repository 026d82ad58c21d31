/**
 * The build's parsed copy of the registry templates (dist/templates/registry.json) must say exactly what
 * the YAML says, and is used only while it matches the templates' digest.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  renderRegistryConfig,
  renderRegistryConfigFromTemplate,
} from "../../src/core/render/registry-config.js";
import * as source from "../../src/core/render/templates.js";

describe("compiled registry templates", () => {
  it("the built copy equals a fresh parse of the YAML and carries the templates' digest", async () => {
    // npm test builds first; the copy is part of what `npm ci` leaves behind.
    const compiledPath = fileURLToPath(source.compiledTemplatesUrl);
    expect(compiledPath).toBe(fileURLToPath(new URL("../../dist/templates/registry.json", import.meta.url)));
    expect(existsSync(compiledPath)).toBe(true);
    const compiled = JSON.parse(readFileSync(compiledPath, "utf8"));
    const texts = await Promise.all(source.TEMPLATE_FILES.map(source.readTemplate));
    expect(compiled.digest).toBe(source.templatesDigest(texts));
    const parsed = await source.parseTemplateObjects();
    expect(compiled.objects).toEqual(parsed);
    // The copy is what the renderer uses while it matches.
    expect(await source.compiledTemplates()).toEqual(compiled);
    expect(await source.loadTemplateObjects()).toEqual(parsed);

    // config.yml is compiled too, exactly as rendered from the ConfigMap template.
    const fromTemplate = await renderRegistryConfigFromTemplate();
    expect(compiled.registryConfig).toBe(fromTemplate);
    expect(await renderRegistryConfig()).toBe(fromTemplate);
  });

  it("hands every caller its own copy of the compiled objects", async () => {
    const first = await source.loadTemplateObjects();
    (first[0] as { metadata: { name: string } }).metadata.name = "changed";
    const second = await source.loadTemplateObjects();
    expect(second[0]?.metadata.name).not.toBe("changed");
  });

  it("a changed template changes the digest, so a stale copy is not used", () => {
    expect(source.templatesDigest(["a", "b"])).not.toBe(source.templatesDigest(["a", "b "]));
    expect(source.templatesDigest(["ab", ""])).not.toBe(source.templatesDigest(["a", "b"]));
  });
});
