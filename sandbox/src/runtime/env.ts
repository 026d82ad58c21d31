/**
 * A container's environment as the kubelet builds it: envFrom first, then env in order (later wins),
 * `value` with $(VAR) references to earlier variables, and valueFrom secretKeyRef, configMapKeyRef and
 * the simple fieldRefs. What cannot be resolved is reported, not invented.
 */
import type { KubeObject, ObjectStore } from "../types.js";

// biome-ignore lint/suspicious/noExplicitAny: container specs are plain JSON
type Json = any;

export interface ResolvedEnv {
  env: Record<string, string>;
  /** e.g. `secret "x" not found`, for a pod event. */
  problems: string[];
}

/** $(VAR) expands to an earlier variable, $$(VAR) is a literal $(VAR), unknown references stay as they are. */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === "$$") return "$";
    return name !== undefined && name in env ? (env[name] ?? "") : match;
  });
}

function keyValue(object: KubeObject, key: string, isSecret: boolean): string | undefined {
  if (isSecret) {
    const data = object.data?.[key];
    if (data !== undefined) return Buffer.from(String(data), "base64").toString("utf8");
    return object.stringData?.[key];
  }
  return (
    object.data?.[key] ??
    (object.binaryData?.[key] !== undefined
      ? Buffer.from(String(object.binaryData[key]), "base64").toString("utf8")
      : undefined)
  );
}

function fieldValue(pod: KubeObject, fieldPath: string): string | undefined {
  switch (fieldPath) {
    case "metadata.name":
      return pod.metadata.name;
    case "metadata.namespace":
      return pod.metadata.namespace;
    case "metadata.uid":
      return pod.metadata.uid;
    case "spec.nodeName":
      return pod.spec?.nodeName;
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName;
    case "status.podIP":
      return pod.status?.podIP;
    case "status.hostIP":
      return pod.status?.hostIP;
    default: {
      const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
      if (label) return pod.metadata[label[1] as "labels" | "annotations"]?.[label[2]!];
      return undefined;
    }
  }
}

export function resolveEnv(store: ObjectStore, pod: KubeObject, container: Json): ResolvedEnv {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  const namespace = pod.metadata.namespace;
  const lookup = (kind: "Secret" | "ConfigMap", ref: Json): string | undefined => {
    const what = `${kind === "Secret" ? "secret" : "configmap"} "${ref.name}"`;
    const object = store.get(kind, namespace, ref.name);
    if (object === undefined) {
      if (ref.optional !== true) problems.push(`${what} not found`);
      return undefined;
    }
    const value = keyValue(object, ref.key, kind === "Secret");
    if (value === undefined && ref.optional !== true)
      problems.push(
        `couldn't find key ${ref.key} in ${kind === "Secret" ? "Secret" : "ConfigMap"} ${namespace}/${ref.name}`,
      );
    return value;
  };

  for (const from of container.envFrom ?? []) {
    const isSecret = from.secretRef !== undefined;
    const ref = from.secretRef ?? from.configMapRef;
    if (!ref) continue;
    const object = store.get(isSecret ? "Secret" : "ConfigMap", namespace, ref.name);
    if (object === undefined) {
      if (ref.optional !== true)
        problems.push(`${isSecret ? "secret" : "configmap"} "${ref.name}" not found`);
      continue;
    }
    const keys = new Set([...Object.keys(object.data ?? {}), ...Object.keys(object.stringData ?? {})]);
    for (const key of keys) {
      const value = keyValue(object, key, isSecret);
      if (value !== undefined) env[`${from.prefix ?? ""}${key}`] = value;
    }
  }

  for (const variable of container.env ?? []) {
    const name = String(variable.name);
    const source = variable.valueFrom;
    let value: string | undefined;
    if (source?.secretKeyRef) value = lookup("Secret", source.secretKeyRef);
    else if (source?.configMapKeyRef) value = lookup("ConfigMap", source.configMapKeyRef);
    else if (source?.fieldRef) value = fieldValue(pod, String(source.fieldRef.fieldPath));
    else if (source)
      problems.push(`env ${name}: only value, secretKeyRef, configMapKeyRef and fieldRef are supported`);
    else value = expand(String(variable.value ?? ""), env);
    if (value !== undefined) env[name] = value;
  }
  return { env, problems };
}
