/**
 * Label selectors (the query-string syntax and the LabelSelector objects in specs) and field selectors,
 * with the grammar and the error messages of the real API server.
 */
import { ApiError, type KubeObject } from "./types.js";

export type LabelRequirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!" };

/** A LabelSelector as it appears in specs (Deployment.spec.selector, PDB.spec.selector, ...). */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

function badSelector(selector: string, why: string): ApiError {
  return new ApiError(400, "BadRequest", `unable to parse requirement: ${why} (selector "${selector}")`);
}

/** Splits on commas that are not inside a parenthesised value set. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      terms.push(current);
      current = "";
    } else current += char;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== "");
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(selector: string, key: string): string {
  if (!KEY.test(key)) throw badSelector(selector, `invalid label key "${key}"`);
  return key;
}

function checkValue(selector: string, value: string): string {
  if (!VALUE.test(value) || value.length > 63) throw badSelector(selector, `invalid label value: "${value}"`);
  return value;
}

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`. */
export function parseLabelSelector(selector: string | undefined): LabelRequirement[] {
  if (selector === undefined || selector.trim() === "") return [];
  return splitTerms(selector).map((term) => {
    const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    if (set) {
      const values = set[3]!.split(",").map((v) => checkValue(selector, v.trim()));
      return { key: checkKey(selector, set[1]!), op: set[2] as "in" | "notin", values };
    }
    const comparison = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (comparison) {
      const op = comparison[2] === "!=" ? "!=" : "=";
      return { key: checkKey(selector, comparison[1]!), op, value: checkValue(selector, comparison[3]!) };
    }
    if (term.startsWith("!")) return { key: checkKey(selector, term.slice(1).trim()), op: "!" };
    if (/^\S+$/.test(term)) return { key: checkKey(selector, term), op: "exists" };
    throw badSelector(selector, `found '${term}', expected: !, identifier, or 'end of string'`);
  });
}

export function matchesRequirements(
  requirements: readonly LabelRequirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const own = labels ?? {};
  return requirements.every((r) => {
    const has = Object.hasOwn(own, r.key);
    const value = own[r.key];
    switch (r.op) {
      case "=":
        return has && value === r.value;
      case "!=":
        return !has || value !== r.value;
      case "in":
        return has && r.values.includes(value!);
      case "notin":
        return !has || !r.values.includes(value!);
      case "exists":
        return has;
      case "!":
        return !has;
    }
    return false;
  });
}

/** Requirements of a LabelSelector object (an empty selector matches everything, as in PDBs). */
export function requirementsOf(selector: LabelSelectorObject | undefined | null): LabelRequirement[] {
  if (selector === undefined || selector === null) return [];
  const requirements: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    op: "=",
    value,
  }));
  for (const expression of selector.matchExpressions ?? []) {
    const values = expression.values ?? [];
    switch (expression.operator) {
      case "In":
        requirements.push({ key: expression.key, op: "in", values });
        break;
      case "NotIn":
        requirements.push({ key: expression.key, op: "notin", values });
        break;
      case "Exists":
        requirements.push({ key: expression.key, op: "exists" });
        break;
      case "DoesNotExist":
        requirements.push({ key: expression.key, op: "!" });
        break;
      default:
        throw new ApiError(
          400,
          "BadRequest",
          `"${expression.operator}" is not a valid label selector operator`,
        );
    }
  }
  return requirements;
}

export function selectorMatches(
  selector: LabelSelectorObject | undefined | null,
  labels: Record<string, string> | undefined,
): boolean {
  return matchesRequirements(requirementsOf(selector), labels);
}

/** Renders a LabelSelector object in the query-string syntax (for Scale.status.selector). */
export function formatSelector(selector: LabelSelectorObject | undefined | null): string {
  return requirementsOf(selector)
    .map((r) => {
      if (r.op === "=" || r.op === "!=") return `${r.key}${r.op}${r.value}`;
      if (r.op === "in" || r.op === "notin") return `${r.key} ${r.op} (${r.values.join(",")})`;
      return r.op === "exists" ? r.key : `!${r.key}`;
    })
    .join(",");
}

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

/**
 * Field selectors a real API server accepts per kind (metadata.name and metadata.namespace everywhere);
 * any other field is a 400 "field label not supported".
 */
const SUPPORTED_FIELDS: Record<string, string[]> = {
  Pod: [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
  ],
  Node: ["spec.unschedulable"],
  Event: [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  Secret: ["type"],
  Namespace: ["status.phase"],
  ReplicaSet: ["status.replicas"],
  Job: ["status.successful"],
  PersistentVolumeClaim: [],
  Service: ["spec.clusterIP", "spec.type"],
};

export function parseFieldSelector(kind: string, selector: string | undefined): FieldRequirement[] {
  if (selector === undefined || selector.trim() === "") return [];
  const supported = ["metadata.name", "metadata.namespace", ...(SUPPORTED_FIELDS[kind] ?? [])];
  return splitTerms(selector).map((term) => {
    const match = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (!match)
      throw new ApiError(400, "BadRequest", `invalid selector: '${selector}'; can't understand '${term}'`);
    const field = match[1]!.trim();
    if (!supported.includes(field)) {
      throw new ApiError(400, "BadRequest", `field label not supported: ${field}`);
    }
    return { field, op: match[2] === "!=" ? "!=" : "=", value: match[3]!.trim() };
  });
}

/** A field's value as the server's field-label conversion renders it ("" when absent). */
export function fieldValue(object: KubeObject, field: string): string {
  if (field === "source" && object.kind === "Event") return String(object.source?.component ?? "");
  let current: unknown = object;
  for (const part of field.split(".")) {
    if (current === null || typeof current !== "object") return "";
    current = (current as Record<string, unknown>)[part];
  }
  if (current === undefined || current === null) {
    if (field === "status.successful") return "0";
    return field === "spec.unschedulable" || field === "spec.hostNetwork" ? "false" : "";
  }
  return String(current);
}

export function matchesFields(requirements: readonly FieldRequirement[], object: KubeObject): boolean {
  return requirements.every((r) => (fieldValue(object, r.field) === r.value) === (r.op === "="));
}
