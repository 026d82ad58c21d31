/**
 * Rendered objects against the Kubernetes API schemas: the JSON schemas of kubernetes-models, plus a
 * stricter walk over @kubernetes/client-node's model field lists, because the API schemas allow unknown
 * fields that a real server with fieldValidation=Strict rejects.
 */
import * as k8s from "@kubernetes/client-node";

/** A kind's kubernetes-models class (its JSON schema) and the name of its @kubernetes/client-node model. */
export interface KindSchema {
  schema: new (data: never) => { validate(): void };
  client: string;
}

interface Attribute {
  baseName: string;
  type: string;
}
const models = k8s as unknown as Record<string, { attributeTypeMap?: Attribute[] } | undefined>;

/** Field names and primitive types that the API server would reject, as "path: problem" lines. */
function strictProblems(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const list = /^Array<(.+)>$/.exec(type);
  if (list) {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    return value.flatMap((item, i) => strictProblems(item, list[1] as string, `${path}[${i}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    return Object.entries(value as object).flatMap(([k, v]) =>
      strictProblems(v, map[1] as string, `${path}.${k}`),
    );
  }
  const primitive: Record<string, (v: unknown) => boolean> = {
    string: (v) => typeof v === "string",
    number: (v) => typeof v === "number",
    boolean: (v) => typeof v === "boolean",
    IntOrString: (v) => typeof v === "string" || Number.isInteger(v),
    any: () => true,
  };
  const check = primitive[type];
  if (check) return check(value) ? [] : [`${path}: ${JSON.stringify(value)} is not a ${type}`];
  const attributes = models[type]?.attributeTypeMap;
  if (!attributes) return [`${path}: no model ${type}`];
  if (typeof value !== "object" || Array.isArray(value)) return [`${path}: expected an object (${type})`];
  return Object.entries(value).flatMap(([key, v]) => {
    const attribute = attributes.find((a) => a.baseName === key);
    return attribute
      ? strictProblems(v, attribute.type, `${path}.${key}`)
      : [`${path}.${key}: unknown field of ${type}`];
  });
}

/**
 * What the API server would reject in `object`, as "KIND/NAME.path: problem" lines (none when it would
 * accept it). A kind missing from `kinds` (the kinds the test expects) is a problem too.
 */
export function schemaProblems(
  object: { kind: string; metadata: { name?: string } },
  kinds: Record<string, KindSchema>,
): string[] {
  const label = `${object.kind}/${object.metadata.name}`;
  const kind = kinds[object.kind];
  if (!kind) return [`${label}: not one of the kinds expected here (${Object.keys(kinds).join(", ")})`];
  const problems = strictProblems(object, kind.client, label);
  try {
    new kind.schema(structuredClone(object) as never).validate();
  } catch (error) {
    problems.push(`${label}: ${(error as Error).message}`);
  }
  return problems;
}
