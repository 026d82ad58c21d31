/**
 * The cluster templates shipped with clouddrove (templates/cluster/), read from the package, so the same
 * files work from the sources (tests) and from the built CLI.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { packageFile } from "../../package-files.js";

const TEMPLATES = packageFile("templates/cluster/");

export function templatePath(name: "cluster.yaml" | "storage.yaml"): string {
  return fileURLToPath(new URL(name, TEMPLATES));
}

export function readClusterTemplate(): string {
  return readFileSync(templatePath("cluster.yaml"), "utf8");
}

export function readStorageTemplate(): string {
  return readFileSync(templatePath("storage.yaml"), "utf8");
}
