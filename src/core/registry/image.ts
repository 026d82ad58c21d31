/** Image references and registry versions: "registry:2.8.2" has tag 2.8.2 and major version 2. */

/** The tag of an image reference ("registry:2.8.2" -> "2.8.2"; no tag -> "latest"). */
export function imageTag(image: string | undefined | null): string | undefined {
  if (!image) return undefined;
  const withoutDigest = image.replace(/@.*$/, "");
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  return colon > slash ? withoutDigest.slice(colon + 1) : "latest";
}

/** The image with another tag ("registry:2.8.2", "3.0.0" -> "registry:3.0.0"). */
export function withTag(image: string, tag: string): string {
  const withoutDigest = image.replace(/@.*$/, "");
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  const repository = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  return `${repository}:${tag}`;
}

/** The major version ("3.0.0" -> 3); undefined when the text does not start with "N.". */
export function majorOf(version: string | undefined): number | undefined {
  const match = /^(\d+)\./.exec(version ?? "");
  return match ? Number(match[1]) : undefined;
}
