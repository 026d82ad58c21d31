/**
 * Validation of pod specs (in Pods and in the templates of workloads), with the real field paths and
 * messages. Covers what a real server rejects and users actually hit, not every rule it has.
 */
import type { KubeObject } from "../types.js";
import {
  dns1123LabelProblems,
  duplicate,
  type FieldError,
  invalid,
  labelValueProblems,
  notFound,
  notSupported,
  qualifiedNameProblems,
  required,
} from "./field-errors.js";
import { deepEqual } from "./json.js";

// biome-ignore lint/suspicious/noExplicitAny: validation walks untyped JSON
type Json = any;

export function validateLabels(labels: Json, field: string): FieldError[] {
  const errors: FieldError[] = [];
  if (labels === undefined || labels === null) return errors;
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    for (const problem of qualifiedNameProblems(key)) errors.push(invalid(field, key, problem));
    for (const problem of labelValueProblems(String(value ?? "")))
      errors.push(invalid(field, value, problem));
  }
  return errors;
}

function validatePort(value: unknown, field: string): FieldError[] {
  if (value === undefined) return [required(field)];
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    return [invalid(field, value, "must be between 1 and 65535, inclusive")];
  }
  return [];
}

function validateContainers(
  list: Json,
  field: string,
  volumes: Set<string>,
  requiredList: boolean,
): FieldError[] {
  const errors: FieldError[] = [];
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) {
    return requiredList ? [required(field)] : [];
  }
  if (!Array.isArray(list)) return [invalid(field, list, "must be a list of containers")];
  const names = new Set<string>();
  list.forEach((container: Json, i: number) => {
    const at = `${field}[${i}]`;
    const name = container?.name;
    if (name === undefined || name === "") errors.push(required(`${at}.name`));
    else {
      for (const problem of dns1123LabelProblems(String(name)))
        errors.push(invalid(`${at}.name`, name, problem));
      if (names.has(name)) errors.push(duplicate(`${at}.name`, name));
      names.add(name);
    }
    if (container?.image === undefined || container.image === "") errors.push(required(`${at}.image`));
    (container?.ports ?? []).forEach((port: Json, j: number) => {
      errors.push(...validatePort(port?.containerPort, `${at}.ports[${j}].containerPort`));
      if (port?.protocol !== undefined && !["TCP", "UDP", "SCTP"].includes(port.protocol)) {
        errors.push(notSupported(`${at}.ports[${j}].protocol`, port.protocol, ["SCTP", "TCP", "UDP"]));
      }
    });
    (container?.volumeMounts ?? []).forEach((mount: Json, j: number) => {
      if (!mount?.name) errors.push(required(`${at}.volumeMounts[${j}].name`));
      else if (!volumes.has(mount.name)) errors.push(notFound(`${at}.volumeMounts[${j}].name`, mount.name));
      if (!mount?.mountPath) errors.push(required(`${at}.volumeMounts[${j}].mountPath`));
    });
    (container?.env ?? []).forEach((env: Json, j: number) => {
      if (!env?.name) errors.push(required(`${at}.env[${j}].name`));
    });
  });
  return errors;
}

/** Validates a PodSpec at `field` (e.g. "spec" or "spec.template.spec"). */
export function validatePodSpec(spec: Json, field: string, allowedRestartPolicies?: string[]): FieldError[] {
  if (spec === undefined || spec === null) return [required(`${field}.containers`)];
  const errors: FieldError[] = [];
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((volume: Json, i: number) => {
    const name = volume?.name;
    if (!name) errors.push(required(`${field}.volumes[${i}].name`));
    else {
      for (const problem of dns1123LabelProblems(String(name))) {
        errors.push(invalid(`${field}.volumes[${i}].name`, name, problem));
      }
      if (volumes.has(name)) errors.push(duplicate(`${field}.volumes[${i}].name`, name));
      volumes.add(name);
    }
  });
  errors.push(...validateContainers(spec.containers, `${field}.containers`, volumes, true));
  errors.push(...validateContainers(spec.initContainers, `${field}.initContainers`, volumes, false));
  const policies = ["Always", "OnFailure", "Never"];
  if (spec.restartPolicy !== undefined && !policies.includes(spec.restartPolicy)) {
    errors.push(notSupported(`${field}.restartPolicy`, spec.restartPolicy, policies));
  } else if (allowedRestartPolicies && !allowedRestartPolicies.includes(spec.restartPolicy ?? "Always")) {
    errors.push(
      allowedRestartPolicies.length === 1
        ? notSupported(`${field}.restartPolicy`, spec.restartPolicy, allowedRestartPolicies)
        : required(
            `${field}.restartPolicy`,
            `valid values: ${allowedRestartPolicies.map((p) => JSON.stringify(p)).join(", ")}`,
          ),
    );
  }
  if (spec.dnsPolicy !== undefined) {
    const supported = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
    if (!supported.includes(spec.dnsPolicy))
      errors.push(notSupported(`${field}.dnsPolicy`, spec.dnsPolicy, supported));
  }
  (spec.tolerations ?? []).forEach((toleration: Json, i: number) => {
    const operator = toleration?.operator ?? "Equal";
    if (!["Equal", "Exists"].includes(operator)) {
      errors.push(notSupported(`${field}.tolerations[${i}].operator`, operator, ["Equal", "Exists"]));
    }
    if (operator === "Exists" && toleration?.value) {
      errors.push(
        invalid(
          `${field}.tolerations[${i}].operator`,
          toleration.operator,
          "value must be empty when `operator` is 'Exists'",
        ),
      );
    }
    const effect = toleration?.effect;
    if (
      effect !== undefined &&
      effect !== "" &&
      !["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(effect)
    ) {
      errors.push(
        notSupported(`${field}.tolerations[${i}].effect`, effect, [
          "NoExecute",
          "NoSchedule",
          "PreferNoSchedule",
        ]),
      );
    }
  });
  (spec.topologySpreadConstraints ?? []).forEach((constraint: Json, i: number) => {
    const at = `${field}.topologySpreadConstraints[${i}]`;
    if (!(Number.isInteger(constraint?.maxSkew) && constraint.maxSkew > 0)) {
      errors.push(invalid(`${at}.maxSkew`, constraint?.maxSkew, "must be greater than zero"));
    }
    if (!constraint?.topologyKey) errors.push(required(`${at}.topologyKey`, "can not be empty"));
    const modes = ["DoNotSchedule", "ScheduleAnyway"];
    if (!modes.includes(constraint?.whenUnsatisfiable)) {
      errors.push(notSupported(`${at}.whenUnsatisfiable`, constraint?.whenUnsatisfiable, modes));
    }
  });
  const antiAffinity = spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  antiAffinity.forEach((term: Json, i: number) => {
    if (!term?.topologyKey) {
      errors.push(
        required(
          `${field}.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[${i}].topologyKey`,
          "can not be empty",
        ),
      );
    }
  });
  return errors;
}

/** Validates a PodTemplateSpec: labels, and the spec with the restart policies the owner allows. */
export function validateTemplate(
  template: Json,
  field: string,
  allowedRestartPolicies?: string[],
): FieldError[] {
  if (template === undefined || template === null) return [required(field)];
  return [
    ...validateLabels(template.metadata?.labels, `${field}.metadata.labels`),
    ...validatePodSpec(template.spec, `${field}.spec`, allowedRestartPolicies),
  ];
}

/** The only pod spec fields an update may change (the rest is immutable once a pod exists). */
export function podSpecUpdateErrors(pod: KubeObject, old: KubeObject): FieldError[] {
  const comparable = (spec: Json): Json => {
    const copy = structuredClone(spec ?? {});
    for (const container of [...(copy.containers ?? []), ...(copy.initContainers ?? [])])
      delete container.image;
    delete copy.activeDeadlineSeconds;
    delete copy.terminationGracePeriodSeconds;
    delete copy.tolerations;
    // The scheduler binds a pod by setting spec.nodeName once (the sandbox has no binding subresource).
    if (!old.spec?.nodeName) delete copy.nodeName;
    delete copy.schedulingGates;
    return copy;
  };
  if (deepEqual(comparable(pod.spec), comparable(old.spec))) return [];
  return [
    {
      field: "spec",
      reason: "FieldValueForbidden",
      message:
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    },
  ];
}
