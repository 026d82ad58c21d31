/**
 * Which strings a YAML reader would take for something other than a string. The emitter writes a string
 * without quotes only when neither YAML 1.1 (kubectl, the registry's Go yaml.v2) nor YAML 1.2 (the core
 * schema) would read it as a null, boolean, number, timestamp, merge key or value key; the simple parser
 * resolves unquoted values the way the `yaml` package does by default (1.2 core).
 *
 * Patterns from the YAML 1.1 type repository (yaml.org/type: bool, null, int, float, timestamp, merge,
 * value) and the YAML 1.2.2 core schema (section 10.3.2).
 */

const YAML_11_NON_STRINGS: readonly RegExp[] = [
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:~|null|Null|NULL)$/,
  /^[-+]?0b[0-1_]+$/,
  /^[-+]?0[0-7_]+$/,
  /^[-+]?(?:0|[1-9][0-9_]*)$/,
  /^[-+]?0x[0-9a-fA-F_]+$/,
  /^[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+$/,
  /^[-+]?(?:[0-9][0-9_]*)?\.[0-9.]*(?:[eE][-+][0-9]+)?$/,
  /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*$/,
  /^[-+]?\.(?:inf|Inf|INF)$/,
  /^\.(?:nan|NaN|NAN)$/,
  /^<<$/,
  /^=$/,
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/,
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?$/,
];

const CORE_NULL = /^(?:~|null|Null|NULL)?$/;
const CORE_TRUE = /^(?:true|True|TRUE)$/;
const CORE_FALSE = /^(?:false|False|FALSE)$/;
const CORE_INT_DECIMAL = /^[-+]?[0-9]+$/;
const CORE_INT_OCTAL = /^0o[0-7]+$/;
const CORE_INT_HEX = /^0x[0-9a-fA-F]+$/;
const CORE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const CORE_INFINITY = /^[-+]?\.(?:inf|Inf|INF)$/;
const CORE_NAN = /^\.(?:nan|NaN|NAN)$/;

/** What an unquoted scalar means under the YAML 1.2 core schema (the `yaml` package's default). */
export function resolveCorePlain(text: string): null | boolean | number | string {
  if (CORE_NULL.test(text)) return null;
  if (CORE_TRUE.test(text)) return true;
  if (CORE_FALSE.test(text)) return false;
  if (CORE_INT_DECIMAL.test(text)) return Number(text);
  if (CORE_INT_OCTAL.test(text)) return Number.parseInt(text.slice(2), 8);
  if (CORE_INT_HEX.test(text)) return Number.parseInt(text.slice(2), 16);
  if (CORE_FLOAT.test(text)) return Number(text);
  if (CORE_INFINITY.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (CORE_NAN.test(text)) return Number.NaN;
  return text;
}

/** True when either YAML version would read `text`, unquoted, as something other than that string. */
export function looksLikeNonString(text: string): boolean {
  // Most strings are ruled out by their first character and length alone: every other form starts with
  // a digit, a sign, ".", "~", "<" or "=", or is a boolean or null word of at most five letters.
  if (text.length > 5 && /^[A-Za-z_/]/.test(text)) return false;
  return resolveCorePlain(text) !== text || YAML_11_NON_STRINGS.some((pattern) => pattern.test(text));
}

// A deliberately small character set: no flow indicators, no comment sign, no quotes, no tabs. A string
// outside it is quoted, which costs readability but never meaning.
// "-" may start one when a visible character follows ("-c", "--flag"): "- " would be a sequence entry.
const PLAIN_FIRST = /^(?:[A-Za-z0-9_./<]|-[^ ])/;
const PLAIN_REST = /^[A-Za-z0-9_./<>:@+=,()$%!*&?^~ -]*$/;

/** True when `text` can be written without quotes, as a key or a value, and read back as the same string. */
export function isSafePlain(text: string): boolean {
  return (
    text !== "" &&
    PLAIN_FIRST.test(text) &&
    !text.startsWith("...") &&
    !text.startsWith("---") &&
    PLAIN_REST.test(text) &&
    !text.includes(": ") &&
    !text.endsWith(":") &&
    !text.endsWith(" ") &&
    !looksLikeNonString(text)
  );
}
