/** The Status errors a real API server returns, with its exact messages and details. */
import { qualifiedResource, type ServedType } from "../resources.js";
import { ApiError } from "../types.js";

function details(
  type: ServedType,
  name: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { name, ...(type.group === "" ? {} : { group: type.group }), kind: type.resource, ...extra };
}

export function notFoundError(type: ServedType, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualifiedResource(type)} "${name}" not found`, details(type, name));
}

export function alreadyExistsError(type: ServedType, name: string): ApiError {
  return new ApiError(
    409,
    "AlreadyExists",
    `${qualifiedResource(type)} "${name}" already exists`,
    details(type, name),
  );
}

export function staleError(type: ServedType, name: string): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(type, name),
  );
}

export function preconditionError(
  type: ServedType,
  name: string,
  what: string,
  wanted: string,
  actual: string,
): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": Precondition failed: ${what} in precondition: ${wanted}, ${what} in object meta: ${actual}`,
    details(type, name),
  );
}

export function namespaceNotFoundError(namespace: string): ApiError {
  return new ApiError(404, "NotFound", `namespaces "${namespace}" not found`, {
    name: namespace,
    kind: "namespaces",
  });
}

export function namespaceTerminatingError(type: ServedType, name: string, namespace: string): ApiError {
  return new ApiError(
    403,
    "Forbidden",
    `${qualifiedResource(type)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
    details(type, name, {
      causes: [
        {
          reason: "NamespaceTerminating",
          message: `namespace ${namespace} is being terminated`,
          field: "metadata.namespace",
        },
      ],
    }),
  );
}

export function tooOldError(requested: number, oldest: number): ApiError {
  return new ApiError(410, "Expired", `too old resource version: ${requested} (${oldest})`);
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}
