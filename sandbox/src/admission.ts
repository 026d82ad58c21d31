/**
 * Admission: what the real API server does to an object between decoding and storing it — defaulting,
 * validation (422 Invalid with details.causes), and, when the client asks for fieldValidation=Strict,
 * the rejection of fields the kind does not have (400 BadRequest).
 */
import { applyDefaults, type DefaultingContext } from "./api/defaults.js";
import { invalidError } from "./api/field-errors.js";
import { isPlainObject } from "./api/json.js";
import { OWNED_METADATA, UNOWNED_METADATA } from "./api/managed-fields.js";
import { validateObject } from "./api/validate.js";
import { apiVersionOf, type ServedType } from "./resources.js";
import { ApiError, type KubeObject } from "./types.js";

export type AdmissionContext = DefaultingContext;

/** Defaults `object` in place, then validates it; throws 422 Invalid. `old` is the stored object on update. */
export function admit(
  type: ServedType,
  object: KubeObject,
  old: KubeObject | undefined,
  context: AdmissionContext,
): void {
  applyDefaults(type, object, old, context);
  const errors = validateObject(type, object, old);
  if (errors.length > 0) throw invalidError(type, object.metadata?.name ?? "", errors);
}

/** Every field ObjectMeta has. */
const METADATA_FIELDS = new Set<string>([...UNOWNED_METADATA, ...OWNED_METADATA]);

/** Fields of `object` (top level, metadata, and spec where the kind lists them) the kind does not have. */
export function unknownFields(type: ServedType, object: KubeObject): string[] {
  const unknown: string[] = [];
  const known = new Set(["apiVersion", "kind", "metadata", ...type.fields]);
  for (const key of Object.keys(object)) if (!known.has(key)) unknown.push(key);
  if (isPlainObject(object.metadata)) {
    for (const key of Object.keys(object.metadata))
      if (!METADATA_FIELDS.has(key)) unknown.push(`metadata.${key}`);
  }
  if (type.specFields && isPlainObject(object.spec)) {
    const specFields = new Set(type.specFields);
    for (const key of Object.keys(object.spec)) if (!specFields.has(key)) unknown.push(`spec.${key}`);
  }
  return unknown;
}

/**
 * fieldValidation=Strict: unknown fields are a 400, worded as the server words it for an apply patch
 * (`.spec.replicaz: field not declared in schema`) or for a decoded body (`strict decoding error`).
 */
export function rejectUnknownFields(type: ServedType, object: KubeObject, applyPatch: boolean): void {
  const unknown = unknownFields(type, object);
  if (unknown.length === 0) return;
  const message = applyPatch
    ? `failed to create typed patch object (${apiVersionOf(type)}, Kind=${type.kind}): ${unknown.map((f) => `.${f}: field not declared in schema`).join(", ")}`
    : `strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`;
  throw new ApiError(400, "BadRequest", message, {
    causes: unknown.map((field) => ({
      reason: "FieldValueInvalid",
      message: `unknown field "${field}"`,
      field,
    })),
  });
}

/**
 * fieldValidation=Warn (the default for kubectl without --validate=strict): unknown fields are dropped,
 * and reported as warnings.
 */
export function unknownFieldWarnings(type: ServedType, object: KubeObject): string[] {
  return unknownFields(type, object).map((field) => `unknown field "${field}"`);
}
