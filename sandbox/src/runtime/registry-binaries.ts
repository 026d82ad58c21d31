/**
 * Which binary runs a registry container of each major version: registry:2.x runs Debian's
 * `docker-registry` (Distribution 2.8.2, found on PATH); registry:3.x runs Distribution v3.0.0's
 * `registry`, which scripts/components.sh builds from its Go module into the components cache. The
 * sandbox never runs one version for the other: without the v3 binary a registry:3.x container fails,
 * and says how to build it.
 */
import { accessSync, constants as fsConstants } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { RegistryMajor } from "./image.js";

/** The Distribution release run for every registry:3.x image (scripts/components.sh builds this one). */
export const DISTRIBUTION_VERSION = "v3.0.0";

export type RegistryBinaries = Record<RegistryMajor, string | undefined>;

/**
 * Where scripts/components.sh keeps what it builds, by the script's own rule: CLOUDDROVE_COMPONENTS_CACHE,
 * else $XDG_CACHE_HOME or ~/.cache, then clouddrove/components.
 */
export function componentsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.CLOUDDROVE_COMPONENTS_CACHE ||
    join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "clouddrove", "components")
  );
}

/** Where scripts/components.sh puts Distribution's registry binary. */
export function distributionBinaryPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(componentsCacheDir(env), `distribution-${DISTRIBUTION_VERSION}`, "bin", "registry");
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why a registry:3.x container cannot start here: its log line and the pod event's message. */
export function missingV3BinaryMessage(image: string, path: string): string {
  return `${image} runs Distribution ${DISTRIBUTION_VERSION}'s registry binary, which is not built on this machine (not found at ${path}): run scripts/components.sh in the clouddrove checkout to build it`;
}
