/**
 * The line of a key in a YAML file, so an error about the key can point at it (`clouddrove.yaml:7:`).
 * Follows block mappings by indentation, as config files are written; a key it cannot place (flow style,
 * anchors) gets no line rather than a wrong one.
 */

const KEY_LINE = /^( *)("([^"]*)"|'([^']*)'|[^\s#:'"-][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:\s|$)/;

/** 1-based line of the key at `path` (["storage", "sise"]), or undefined. */
export function lineOfKey(text: string, path: readonly string[]): number | undefined {
  const open: Array<{ indent: number; key: string }> = [];
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    const match = KEY_LINE.exec(line);
    if (!match) continue;
    const indent = (match[1] as string).length;
    const key = match[3] ?? match[4] ?? (match[2] as string).trim();
    while (open.length > 0 && (open.at(-1) as { indent: number }).indent >= indent) open.pop();
    open.push({ indent, key });
    if (open.length === path.length && open.every((entry, depth) => entry.key === path[depth]))
      return index + 1;
  }
  return undefined;
}
