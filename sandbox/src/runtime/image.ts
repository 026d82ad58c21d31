/**
 * Which container images the sandbox runs as real processes: the registry (CNCF Distribution) in its
 * major versions 2 and 3, under the names people write it by — `registry:2.8.2`,
 * `docker.io/library/registry:3.0.0`, a mirror's `mirror.example.com/library/registry:2`. Every other
 * image stays simulated.
 */

export type RegistryMajor = 2 | 3;

/** The repository and tag of an image reference ("host/path/name:tag@digest"); tag undefined when absent. */
export function splitImage(image: string): { repository: string; tag: string | undefined } {
  const withoutDigest = image.replace(/@.*$/, "");
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  // A colon before the last slash belongs to a registry host:port, not to a tag.
  if (colon > lastSlash)
    return { repository: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) };
  return { repository: withoutDigest, tag: undefined };
}

function isRegistryRepository(repository: string): boolean {
  return (
    repository === "registry" ||
    repository === "docker.io/library/registry" ||
    repository === "library/registry" ||
    repository.endsWith("/library/registry")
  );
}

/**
 * 2 or 3 for a registry image whose tag starts with that major version ("2", "2.8", "2.8.2",
 * "3.0.0-rc.1"); undefined for anything else, including `registry:latest` (which version it is depends on
 * the day it was pulled, so the sandbox does not guess).
 */
export function registryMajor(image: string | undefined): RegistryMajor | undefined {
  if (!image) return undefined;
  const { repository, tag } = splitImage(image);
  if (!isRegistryRepository(repository) || tag === undefined) return undefined;
  const major = /^(\d+)(?:[.-]|$)/.exec(tag)?.[1];
  if (major === "2") return 2;
  if (major === "3") return 3;
  return undefined;
}
