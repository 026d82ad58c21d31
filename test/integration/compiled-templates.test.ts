/**
 * The build's parsed copy of the registry templates (dist/templates/registry.json) must say exactly what
 * the YAML says, and is used only while it matches the templates' digest.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderRegistryConfigFromTemplate } from "../../src/core/render/registry-config.js";
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

    // config.yml is compiled too, exactly as rendered from the ConfigMap template.
    const builtConfig = (await import(
      new URL("../../dist/core/render/registry-config.js", import.meta.url).href
    )) as {
      renderRegistryConfig(): Promise<string>;
    };
    const fromTemplate = await renderRegistryConfigFromTemplate();
    expect(compiled.registryConfig).toBe(fromTemplate);
    expect(await builtConfig.renderRegistryConfig()).toBe(fromTemplate);
  });

  it("hands every caller its own copy of the compiled objects", async () => {
    const built = (await import(builtModule.href)) as typeof source;
    const first = await built.loadTemplateObjects();
    (first[0] as { metadata: { name: string } }).metadata.name = "changed";
    const second = await built.loadTemplateObjects();
    expect(second[0]?.metadata.name).not.toBe("changed");
  });

  it("a changed template changes the digest, so a stale copy is not used", () => {
    expect(source.templatesDigest(["a", "b"])).not.toBe(source.templatesDigest(["a", "b "]));
    expect(source.templatesDigest(["ab", ""])).not.toBe(source.templatesDigest(["a", "b"]));
  });
});
