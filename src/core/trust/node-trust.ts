/**
 * The node-trust objects (templates/node-trust/node-trust.yaml) with the CA, the registry's addresses, the
 * pinned image and the script filled in by path, never pasted into text. Pure: the caller hands in the
 * template texts.
 */
import { parseAllDocuments } from "yaml";
import { OperationError } from "../../errors.js";
import type { KubeObject } from "../render/types.js";
import { hostPort, type RegistryAddress } from "./address.js";
import type { CaCertificate } from "./ca.js";
import { trustNames } from "./names.js";

export interface NodeTrustTemplates {
  /** templates/node-trust/node-trust.yaml */
  objects: string;
  /** templates/node-trust/install-ca.sh */
  script: string;
}

export interface NodeTrustInput {
  ca: Pick<CaCertificate, "pem" | "sha256">;
  addresses: RegistryAddress[];
  /** The pinned image with busybox sh (registry.initImage). */
  image: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the template's objects are plain JSON, checked as they are used
type Json = any;

function defect(what: string): OperationError {
  return new OperationError(`The node-trust template does not match the renderer: ${what}`, {
    hint: "Restore templates/node-trust/ from the clouddrove package.",
  });
}

export function renderNodeTrust(templates: NodeTrustTemplates, input: NodeTrustInput): KubeObject[] {
  if (input.addresses.length === 0) throw defect("no registry address to trust");
  const objects = parseAllDocuments(templates.objects, { version: "1.1" }).map((doc) => {
    if (doc.errors.length > 0) throw defect(`not valid YAML: ${doc.errors[0]?.message}`);
    return doc.toJS() as KubeObject;
  });
  const byKind = (kind: string): Json => {
    const found = objects.find((o) => o?.kind === kind);
    if (!found) throw defect(`no ${kind}`);
    return found;
  };
  const configMap = byKind("ConfigMap");
  configMap.data = { [trustNames.caKey]: input.ca.pem, "install-ca.sh": templates.script };

  const template = byKind("DaemonSet").spec?.template;
  const container = template?.spec?.containers?.find((c: Json) => c.name === "install-ca");
  if (!container) throw defect("no install-ca container in the DaemonSet");
  container.image = input.image;
  const registries = container.env?.find((e: Json) => e.name === "REGISTRIES");
  if (!registries) throw defect("no REGISTRIES variable");
  registries.value = input.addresses.map(hostPort).join(" ");
  template.metadata.annotations[trustNames.annotations.caChecksum] = input.ca.sha256;
  return objects;
}
