/**
 * YAML text for JSON data: what `deploy --dry-run` and `-o yaml` print. A small writer instead of the
 * `yaml` package because loading that package is most of a dry run's start-up time, and JSON data needs
 * none of its generality. Block style, keys in insertion order, sequences indented under their key (the
 * layout `kubectl get -o yaml` uses). Strings are quoted whenever YAML 1.1 or 1.2 could read them as
 * anything else (see scalars.ts), so the text means the same to kubectl, Go's yaml.v2 and the `yaml`
 * package; multi-line strings (scripts, config files) are written as literal blocks, readable as they are.
 */
import { isSafePlain } from "./scalars.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const INDENT = "  ";

/** One YAML document (ending in a newline) with the data `JSON.stringify(value)` would carry. */
export function toYaml(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError("toYaml: the value has no JSON form");
  return `${renderRoot(JSON.parse(json) as Json).join("\n")}\n`;
}

/** Several documents as one stream, separated by "---". */
export function toYamlStream(values: readonly unknown[]): string {
  return values.map(toYaml).join("---\n");
}

function renderRoot(value: Json): string[] {
  if (Array.isArray(value)) return value.length === 0 ? ["[]"] : sequenceLines(value, 0);
  if (isObject(value)) return Object.keys(value).length === 0 ? ["{}"] : mappingLines(value, 0);
  // A string at the root is always quoted: a plain "..." or "---" there would end or start a document.
  return [typeof value === "string" ? JSON.stringify(value) : (scalarText(value) as string)];
}

function mappingLines(map: { [key: string]: Json }, depth: number): string[] {
  const pad = INDENT.repeat(depth);
  const lines: string[] = [];
  for (const [key, value] of Object.entries(map)) {
    const head = `${pad}${keyText(key)}:`;
    const inline = scalarText(value);
    if (inline !== undefined) lines.push(`${head} ${inline}`);
    else lines.push(...nested(head, value, depth + 1));
  }
  return lines;
}

function sequenceLines(items: Json[], depth: number): string[] {
  const pad = INDENT.repeat(depth);
  const lines: string[] = [];
  for (const item of items) {
    const inline = scalarText(item);
    if (inline !== undefined) {
      lines.push(`${pad}- ${inline}`);
    } else if (typeof item === "string") {
      lines.push(...literalBlock(`${pad}-`, item, depth + 1));
    } else {
      // A collection item starts on the dash's line: "- key: value", further keys below it.
      const inner = collectionLines(item, depth + 1);
      inner[0] = `${pad}- ${(inner[0] as string).slice(pad.length + INDENT.length)}`;
      lines.push(...inner);
    }
  }
  return lines;
}

/** The lines after "key:" for a value that does not fit on that line. */
function nested(head: string, value: Json, depth: number): string[] {
  if (typeof value === "string") return literalBlock(head, value, depth);
  return [head, ...collectionLines(value, depth)];
}

function collectionLines(value: Json, depth: number): string[] {
  return Array.isArray(value)
    ? sequenceLines(value, depth)
    : mappingLines(value as { [key: string]: Json }, depth);
}

/**
 * The text of a value that fits on its key's line (scalars, empty collections, quoted strings);
 * undefined for non-empty collections and for strings written as literal blocks.
 */
function scalarText(value: Json): string | undefined {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return numberText(value);
  if (typeof value === "string") {
    if (isSafePlain(value)) return value;
    return canBeLiteralBlock(value) ? undefined : JSON.stringify(value);
  }
  if (Array.isArray(value)) return value.length === 0 ? "[]" : undefined;
  return Object.keys(value).length === 0 ? "{}" : undefined;
}

function keyText(key: string): string {
  // JSON's escapes are all valid in a YAML double-quoted scalar.
  return isSafePlain(key) ? key : JSON.stringify(key);
}

/** YAML 1.1 reads "1e+21" as a string: its floats need a "." in the mantissa. */
function numberText(value: number): string {
  const text = String(value);
  const exponent = text.indexOf("e");
  if (exponent === -1) return text;
  const mantissa = text.slice(0, exponent);
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}${text.slice(exponent)}`;
}

// Characters a YAML reader does not keep as they are in a block scalar: non-printables, a byte-order
// mark, lone surrogates, \r and the line separators YAML 1.1 treats as line breaks.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const NOT_LITERAL_SAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufeff\ud800-\udfff\u2028\u2029]/;

/**
 * Multi-line text goes in a literal block when it survives one unchanged: it starts with a visible
 * character (else the block's indentation would be misread) and has no line of only spaces or tabs.
 */
function canBeLiteralBlock(text: string): boolean {
  return (
    text.includes("\n") &&
    !/^[ \t\n]/.test(text) &&
    !NOT_LITERAL_SAFE.test(text) &&
    !text.split("\n").some((line) => line !== "" && /^[ \t]+$/.test(line))
  );
}

/** `head |` and the text's lines one level deeper; the chomping indicator keeps its trailing newlines. */
function literalBlock(head: string, text: string, depth: number): string[] {
  const trailing = text.length - text.replace(/\n+$/, "").length;
  const chomping = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
  const pad = INDENT.repeat(depth);
  const body = trailing <= 1 ? text.replace(/\n$/, "") : text.slice(0, -1);
  return [`${head} |${chomping}`, ...body.split("\n").map((line) => (line === "" ? "" : `${pad}${line}`))];
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
