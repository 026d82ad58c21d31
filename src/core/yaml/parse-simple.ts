/**
 * A reader for the plain YAML that configuration files are made of: nested block mappings with plain
 * keys; values that are plain, single- or double-quoted scalars or one-line flow sequences of them; block
 * sequences of such scalars; comments and blank lines. That is every clouddrove.yaml `init` writes and
 * every example in the docs.
 *
 * It exists for start-up time: loading the `yaml` package costs a command more than everything else it
 * does before it reaches the cluster. Anything outside the subset (anchors, tags, block scalars,
 * multi-line scalars, flow mappings, tabs, duplicate keys, odd indentation, a syntax error) returns
 * undefined, and the caller parses the text with the `yaml` package, which also words the errors. So this
 * never has to be right about YAML it does not understand: the tests hold it to the `yaml` package's
 * result (YAML 1.2, core schema) for everything it does accept.
 */
import { resolveCorePlain } from "./scalars.js";

type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

interface Line {
  indent: number;
  /** The line without its indentation; comment-only and blank lines are dropped before parsing. */
  text: string;
}

/** Thrown inside the reader when the text leaves the subset; never escapes it. */
class OutsideSubset extends Error {}

/** `{ value }` as the `yaml` package would read the text, or undefined when the text is outside the subset. */
export function parseSimpleYaml(text: string): { value: Value } | undefined {
  try {
    const lines = contentLines(text);
    if (lines.length === 0) return { value: null };
    if ((lines[0] as Line).indent !== 0) throw new OutsideSubset();
    const [value, next] = parseNode(lines, 0, 0);
    if (next !== lines.length) throw new OutsideSubset();
    return { value };
  } catch (error) {
    if (error instanceof OutsideSubset) return undefined;
    throw error;
  }
}

function contentLines(text: string): Line[] {
  // Tabs, carriage returns, a byte-order mark and other control characters: left to the full parser.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ufeff\u2028\u2029]/.test(text)) throw new OutsideSubset();
  const lines: Line[] = [];
  let first = true;
  for (const raw of text.split("\n")) {
    const body = raw.trimStart();
    if (body === "" || body.startsWith("#")) continue;
    const indent = raw.length - body.length;
    // One leading "---" is a plain document start; any other marker or directive is not for this reader.
    if (first && indent === 0 && /^---(?:\s+#.*)?\s*$/.test(body)) {
      first = false;
      continue;
    }
    first = false;
    if (indent === 0 && (body.startsWith("---") || body.startsWith("...") || body.startsWith("%"))) {
      throw new OutsideSubset();
    }
    lines.push({ indent, text: body });
  }
  return lines;
}

const isSequenceItem = (line: Line) => line.text === "-" || line.text.startsWith("- ");

/** The block node starting at lines[index], which is indented `indent`. Returns it and the next index. */
function parseNode(lines: Line[], index: number, indent: number): [Value, number] {
  const line = lines[index] as Line;
  return isSequenceItem(line) ? parseSequence(lines, index, indent) : parseMapping(lines, index, indent);
}

// Plain keys only, and none that a reader could take for anything but a string.
const KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

function parseMapping(lines: Line[], start: number, indent: number): [Value, number] {
  const map: { [key: string]: Value } = {};
  let index = start;
  while (index < lines.length) {
    const line = lines[index] as Line;
    if (line.indent < indent) break;
    if (line.indent > indent || isSequenceItem(line)) throw new OutsideSubset();
    const colon = line.text.indexOf(":");
    const key = line.text.slice(0, colon);
    const rest = line.text.slice(colon + 1);
    if (colon <= 0 || !KEY.test(key) || resolveCorePlain(key) !== key || key === "__proto__") {
      throw new OutsideSubset();
    }
    if (Object.hasOwn(map, key)) throw new OutsideSubset();
    if (rest !== "" && !rest.startsWith(" ")) throw new OutsideSubset();
    index++;
    const inline = stripComment(rest);
    if (inline !== "") {
      map[key] = parseInlineValue(inline);
      continue;
    }
    // "key:" alone: a nested block below it (a sequence may sit at the key's own indentation), else null.
    const next = lines[index];
    if (next && (next.indent > indent || (next.indent === indent && isSequenceItem(next)))) {
      [map[key], index] = parseNode(lines, index, next.indent);
    } else {
      map[key] = null;
    }
  }
  return [map, index];
}

function parseSequence(lines: Line[], start: number, indent: number): [Value, number] {
  const items: Value[] = [];
  let index = start;
  while (index < lines.length) {
    const line = lines[index] as Line;
    if (line.indent < indent || (line.indent === indent && !isSequenceItem(line))) break;
    if (line.indent > indent) throw new OutsideSubset();
    const item = stripComment(line.text.slice(1));
    // A bare "-" (a nested block) and "- key: value" (a mapping item) are beyond the subset.
    if (item === "" || looksLikeMappingEntry(item)) throw new OutsideSubset();
    items.push(parseInlineValue(item));
    index++;
  }
  return [items, index];
}

function looksLikeMappingEntry(text: string): boolean {
  if (text.startsWith('"') || text.startsWith("'") || text.startsWith("[")) return false;
  return text.includes(": ") || text.endsWith(":");
}

/** A value on the key's (or dash's) line: a quoted or plain scalar, or a flow sequence. */
function parseInlineValue(text: string): Value {
  if (text.startsWith("[")) return parseFlowSequence(text);
  if (text.startsWith('"') || text.startsWith("'")) {
    const [value, end] = parseQuoted(text, 0);
    if (text.slice(end).trim() !== "") throw new OutsideSubset();
    return value;
  }
  return parsePlain(text, false);
}

// Indicators that change what follows (anchors, aliases, tags, block scalars, flow mappings, ...).
const PLAIN_START_REFUSED = /^(?:[&*!|>%@`{}\],#?:]|- |-$)/;

function parsePlain(text: string, inFlow: boolean): Value {
  const value = text.trim();
  if (value === "" || PLAIN_START_REFUSED.test(value)) throw new OutsideSubset();
  if (value.includes(": ") || value.endsWith(":") || value.includes(" #")) throw new OutsideSubset();
  if (inFlow && /[[\]{},]/.test(value)) throw new OutsideSubset();
  return resolveCorePlain(value);
}

/** [a, "b", 'c'] on one line, with an optional trailing comment; nested collections are beyond the subset. */
function parseFlowSequence(text: string): Value[] {
  const items: Value[] = [];
  let position = 1;
  const skipSpaces = () => {
    while (text[position] === " ") position++;
  };
  skipSpaces();
  if (text[position] === "]") return closeFlow(text, position, items);
  for (;;) {
    skipSpaces();
    const char = text[position];
    if (char === '"' || char === "'") {
      const [value, end] = parseQuoted(text, position);
      items.push(value);
      position = end;
    } else {
      let end = position;
      while (end < text.length && !",]".includes(text[end] as string)) end++;
      items.push(parsePlain(text.slice(position, end), true));
      position = end;
    }
    skipSpaces();
    if (text[position] === "]") return closeFlow(text, position, items);
    if (text[position] !== ",") throw new OutsideSubset();
    position++;
  }
}

function closeFlow(text: string, closing: number, items: Value[]): Value[] {
  if (stripComment(text.slice(closing + 1)) !== "") throw new OutsideSubset();
  return items;
}

/** A quoted scalar that ends on its line; returns the value and the index after the closing quote. */
function parseQuoted(text: string, start: number): [string, number] {
  const quote = text[start];
  let end = start + 1;
  if (quote === "'") {
    for (;;) {
      end = text.indexOf("'", end);
      if (end === -1) throw new OutsideSubset();
      if (text[end + 1] !== "'") break;
      end += 2;
    }
    return [text.slice(start + 1, end).replaceAll("''", "'"), end + 1];
  }
  while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
  if (end >= text.length) throw new OutsideSubset();
  // JSON's escapes mean the same in YAML; YAML's others (\x41, \e, \N, ...) are left to the full parser.
  try {
    return [JSON.parse(text.slice(start, end + 1)) as string, end + 1];
  } catch {
    throw new OutsideSubset();
  }
}

/** The text before a comment (" #..."); quotes are not looked into, so a "#" inside them is refused. */
function stripComment(text: string): string {
  const hash = text.search(/(?:^|\s)#/);
  const kept = hash === -1 ? text : text.slice(0, hash);
  if (hash !== -1 && /["']/.test(kept) && /["']/.test(text.slice(hash))) throw new OutsideSubset();
  return kept.trim();
}
