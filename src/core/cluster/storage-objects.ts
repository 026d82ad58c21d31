/**
 * The storage prerequisites (templates/cluster/storage.yaml) as objects to apply. Pure.
 */
import { parseAllDocuments } from "yaml";

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export function storageObjects(templateText: string): ManifestObject[] {
  return parseAllDocuments(templateText)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`storage template: ${doc.errors[0]?.message}`);
      return doc.toJS() as ManifestObject | null;
    })
    .filter((o): o is ManifestObject => o !== null && typeof o === "object");
}
