/**
 * Discovery and OpenAPI documents: what kubectl and @kubernetes/client-node read before their first
 * real request. Plain APIVersions / APIGroupList / APIResourceList (kubectl accepts them when it asked
 * for aggregated discovery), and OpenAPI v3 group-version documents whose PATCH operations carry
 * `x-kubernetes-group-version-kind` and a `fieldValidation` parameter, so `kubectl apply --server-side`
 * leaves validation to the server.
 */
import { createHash } from "node:crypto";
import { apiVersionOf, SERVED_TYPES, type ServedType, servedGroups } from "../resources.js";

export function versionInfo(kubernetesVersion: string): Record<string, string> {
  const [major = "1", minor = "33"] = kubernetesVersion.replace(/^v/, "").split(".");
  return {
    major,
    // EKS reports the minor with a "+" (its builds carry extra commits).
    minor: `${minor}+`,
    gitVersion: `v${major}.${minor}.5-eks-1a2b3c4`,
    gitCommit: "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
    gitTreeState: "clean",
    buildDate: "2025-09-01T00:00:00Z",
    goVersion: "go1.24.6",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

export function apiVersions(serverAddress: string) {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

export function apiGroupList() {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: servedGroups().map(({ group, versions }) => ({
      name: group,
      versions: versions.map((version) => ({ groupVersion: `${group}/${version}`, version })),
      preferredVersion: { groupVersion: `${group}/${versions[0]}`, version: versions[0] },
    })),
  };
}

export function apiGroup(group: string) {
  const found = servedGroups().find((g) => g.group === group);
  if (!found) return undefined;
  return {
    kind: "APIGroup",
    apiVersion: "v1",
    name: group,
    versions: found.versions.map((version) => ({ groupVersion: `${group}/${version}`, version })),
    preferredVersion: { groupVersion: `${group}/${found.versions[0]}`, version: found.versions[0] },
  };
}

const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function subresourceEntry(type: ServedType, subresource: string) {
  const base = { name: `${type.resource}/${subresource}`, singularName: "", namespaced: type.namespaced };
  switch (subresource) {
    case "status":
      return { ...base, kind: type.kind, verbs: ["get", "patch", "update"] };
    case "scale":
      return {
        ...base,
        group: "autoscaling",
        version: "v1",
        kind: "Scale",
        verbs: ["get", "patch", "update"],
      };
    case "eviction":
      return { ...base, group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] };
    case "binding":
      return { ...base, kind: "Binding", verbs: ["create"] };
    case "log":
      return { ...base, kind: "Pod", verbs: ["get"] };
    case "finalize":
      return { ...base, kind: "Namespace", verbs: ["update"] };
    default:
      return { ...base, kind: type.kind, verbs: ["get"] };
  }
}

export function resourceList(group: string, version: string) {
  const types = SERVED_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const type of types) {
    resources.push({
      name: type.resource,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: ALL_VERBS,
      ...(type.shortNames ? { shortNames: type.shortNames } : {}),
      ...(type.categories ? { categories: type.categories } : {}),
      storageVersionHash: createHash("sha256")
        .update(`${apiVersionOf(type)}/${type.kind}`)
        .digest("base64")
        .slice(0, 11),
    });
    for (const subresource of type.subresources ?? []) resources.push(subresourceEntry(type, subresource));
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group === "" ? version : `${group}/${version}`,
    resources,
  };
}

function gvPath(group: string, version: string): string {
  return group === "" ? `api/${version}` : `apis/${group}/${version}`;
}

function groupVersions(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const t of SERVED_TYPES) seen.set(`${t.group}/${t.version}`, { group: t.group, version: t.version });
  return [...seen.values()];
}

export function openapiRoot() {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, version } of groupVersions()) {
    const path = gvPath(group, version);
    const hash = createHash("sha512")
      .update(JSON.stringify(openapiGroupVersion(group, version)))
      .digest("hex")
      .slice(0, 32);
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash.toUpperCase()}` };
  }
  return { paths };
}

const QUERY_PARAMETERS = ["dryRun", "fieldManager", "fieldValidation", "force", "pretty"].map((name) => ({
  name,
  in: "query",
  description: name,
  schema: { type: name === "force" ? "boolean" : "string", uniqueItems: true },
}));

function schemaName(type: ServedType): string {
  const group = type.group === "" ? "core" : type.group.split(".")[0];
  return `io.k8s.api.${group}.${type.version}.${type.kind}`;
}

/** The OpenAPI v3 document of one group-version (paths with their operations; coarse schemas). */
export function openapiGroupVersion(group: string, version: string) {
  const types = SERVED_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const type of types) {
    const gvk = { group: type.group, version: type.version, kind: type.kind };
    const ref = { $ref: `#/components/schemas/${schemaName(type)}` };
    const json = { "application/json": { schema: ref } };
    const collection = type.namespaced
      ? `/${gvPath(group, version)}/namespaces/{namespace}/${type.resource}`
      : `/${gvPath(group, version)}/${type.resource}`;
    const operation = (action: string, body?: Record<string, unknown>) => ({
      operationId: `${action}${type.kind}`,
      parameters: QUERY_PARAMETERS,
      ...(body ? { requestBody: { content: body, required: true } } : {}),
      responses: { "200": { description: "OK", content: json } },
      "x-kubernetes-action": action,
      "x-kubernetes-group-version-kind": gvk,
    });
    paths[collection] = { get: operation("list"), post: operation("post", json) };
    paths[`${collection}/{name}`] = {
      get: operation("get"),
      put: operation("put", json),
      // Without strategic-merge-patch in this list kubectl's client-side apply uses its compiled-in
      // patch metadata, which knows every merge key; the server still accepts strategic merge patches.
      patch: operation("patch", {
        "application/apply-patch+yaml": { schema: { type: "object" } },
        "application/json-patch+json": { schema: { type: "object" } },
        "application/merge-patch+json": { schema: { type: "object" } },
      }),
      delete: operation("delete"),
    };
    schemas[schemaName(type)] = {
      type: "object",
      description: `${type.kind} (served by the clouddrove sandbox)`,
      properties: Object.fromEntries(
        ["apiVersion", "kind", "metadata", ...type.fields].map((field) => [
          field,
          field === "apiVersion" || field === "kind" ? { type: "string" } : {},
        ]),
      ),
      "x-kubernetes-group-version-kind": [gvk],
    };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.33.5" },
    paths,
    components: { schemas },
  };
}

export { gvPath };
