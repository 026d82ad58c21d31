/**
 * The registry's config.yml. Its text lives in the ConfigMap template (with its comments, which explain
 * each choice to whoever reads the ConfigMap in the cluster); values are set on the parsed document.
 */
import { names } from "./names.js";
import { at } from "./paths.js";
import { compiledTemplates, readTemplate } from "./templates.js";
import type { JsonObject } from "./types.js";

/** "tls": the registry serves TLS (http.tls); "http": plain HTTP (tls.mode insecure-http). */
export type RegistryListener = "tls" | "http";

/**
 * The registry's config.yml text exactly as it goes into the ConfigMap (the same in every namespace; it
 * depends only on whether the registry serves TLS).
 */
export async function renderRegistryConfig(listener: RegistryListener = "tls"): Promise<string> {
  const copy = await compiledTemplates();
  if (copy) return listener === "tls" ? copy.registryConfig : copy.registryConfigHttp;
  return renderRegistryConfigFromTemplate(listener);
}

/** config.yml from the ConfigMap template, with the paths and ports set from names.ts. */
export async function renderRegistryConfigFromTemplate(listener: RegistryListener = "tls"): Promise<string> {
  const { parse, parseDocument } = await import("yaml");
  const configMap = parse(await readTemplate("02-configmap.yaml"), { version: "1.1" }) as JsonObject;
  const text = at(configMap, "data")[names.configMapKeys.registryConfig];
  if (typeof text !== "string") throw new TypeError("02-configmap.yaml has no config.yml text");

  // Go's yaml.v2 (the registry's parser) reads YAML 1.1.
  const doc = parseDocument(text, { version: "1.1" });
  // The paths the Deployment mounts and the ports its probes and Service use: set from the same
  // constants, so the file and the manifests cannot drift apart.
  doc.setIn(["storage", "filesystem", "rootdirectory"], names.dataPath);
  doc.setIn(["http", "addr"], `:${names.ports.registry}`);
  doc.setIn(["http", "debug", "addr"], `:${names.ports.debug}`);
  doc.setIn(["auth", "htpasswd", "path"], names.htpasswdPath);
  if (listener === "tls") {
    doc.setIn(["http", "tls", "certificate"], `${names.tlsDirectory}/${names.secretKeys.tlsCertificate}`);
    doc.setIn(["http", "tls", "key"], `${names.tlsDirectory}/${names.secretKeys.tlsKey}`);
  } else {
    doc.deleteIn(["http", "tls"]);
  }
  // No log.fields.namespace here: the Deployment sets REGISTRY_LOG_FIELDS_NAMESPACE from the pod's
  // namespace, so this text (and the build's compiled copy of it) does not depend on the Config.
  return doc.toString({ lineWidth: 0 });
}
