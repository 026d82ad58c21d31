/**
 * Files that ship with the package (templates/, dist/templates/, package.json), found from the package
 * root. The root is the nearest folder above this module that holds package.json, so the same code finds
 * the same files from src/ (tests), from tsc's dist/ and from the bundled CLI in dist/bundle/, whose
 * modules all sit at different depths.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

function findPackageRoot(start: URL): URL {
  let folder = start;
  for (;;) {
    if (existsSync(fileURLToPath(new URL("package.json", folder)))) return folder;
    const parent = new URL("..", folder);
    if (parent.href === folder.href) throw new Error(`No package.json above ${fileURLToPath(start)}`);
    folder = parent;
  }
}

export const packageRoot: URL = findPackageRoot(new URL(".", import.meta.url));

/** A file of the package, by its path from the package root ("templates/registry/00-namespace.yaml"). */
export function packageFile(path: string): URL {
  return new URL(path, packageRoot);
}
