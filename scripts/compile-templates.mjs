// Build step: parse templates/registry/*.yaml once into dist/templates/registry.json, with the registry's
// config.yml rendered and the digest of the texts it came from (src/core/render/templates.ts uses it
// only while the digest matches).
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const templates = await import("../dist/core/render/templates.js");
const texts = await Promise.all(templates.TEMPLATE_FILES.map(templates.readTemplate));
const objects = await templates.parseTemplateObjects();
const { renderRegistryConfigFromTemplate } = await import("../dist/core/render/registry-config.js");
const registryConfig = await renderRegistryConfigFromTemplate("tls");
const registryConfigHttp = await renderRegistryConfigFromTemplate("http");
const target = templates.compiledTemplatesUrl;
mkdirSync(fileURLToPath(new URL(".", target)), { recursive: true });
writeFileSync(
  target,
  JSON.stringify({ digest: templates.templatesDigest(texts), objects, registryConfig, registryConfigHttp }),
);
