/**
 * The cluster templates shipped with clouddrove (templates/cluster/), read from the package, so the same
 * files work from the sources (tests) and from the built dist/.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// src/steps/cluster/ and dist/steps/cluster/ are both three levels below the package root.
const TEMPLATES = new URL("../../../templates/cluster/", import.meta.url);

export function templatePath(name: "cluster.yaml" | "storage.yaml"): string {
  return fileURLToPath(new URL(name, TEMPLATES));
}

export function readClusterTemplate(): string {
  return readFileSync(templatePath("cluster.yaml"), "utf8");
}

export function readStorageTemplate(): string {
  return readFileSync(templatePath("storage.yaml"), "utf8");
}
