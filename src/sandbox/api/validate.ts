/**
 * Per-kind validation on create and update: what a real API server rejects for the served kinds
 * (required fields, selectors that must match templates, immutable fields, names). Returns field errors;
 * admission.ts turns them into a 422 Invalid Status.
 */
import { cronSchedule } from "../../core/validators.js";
import type { ServedType } from "../resources.js";
import { selectorMatches } from "../selectors.js";
import type { KubeObject } from "../types.js";
import {
  dns1035LabelProblems,
  dns1123LabelProblems,
  dns1123SubdomainProblems,
  type FieldError,
  forbidden,
  immutable,
  invalid,
  notSupported,
  qualifiedNameProblems,
  required,
} from "./field-errors.js";
import { deepEqual, type Json } from "./json.js";
import { podSpecUpdateErrors, validateLabels, validatePodSpec, validateTemplate } from "./validate-pod.js";

function nameErrors(kind: string, name: string): FieldError[] {
  let problems: string[];
  if (kind === "Service") problems = dns1035LabelProblems(name);
  else if (kind === "Namespace") problems = dns1123LabelProblems(name);
  else problems = dns1123SubdomainProblems(name);
  if (kind === "Job" && name.length > 63) problems.push("must be no more than 63 characters");
  if (kind === "CronJob" && name.length > 52) problems.push("must be no more than 52 characters");
  return problems.map((p) => invalid("metadata.name", name, p));
}

function metadataErrors(type: ServedType, object: KubeObject): FieldError[] {
  const meta = object.metadata ?? {};
  const errors: FieldError[] = [];
  if (!meta.name) errors.push(required("metadata.name", "name or generateName is required"));
  else errors.push(...nameErrors(type.kind, meta.name));
  if (type.namespaced && !meta.namespace) errors.push(required("metadata.namespace"));
  errors.push(...validateLabels(meta.labels, "metadata.labels"));
  for (const key of Object.keys(meta.annotations ?? {})) {
    for (const problem of qualifiedNameProblems(key))
      errors.push(invalid("metadata.annotations", key, problem));
  }
  return errors;
}

function selectorErrors(spec: Json, field: string, kindLabel: string): FieldError[] {
  const selector = spec?.selector;
  if (selector === undefined || selector === null) return [required(`${field}.selector`)];
  const empty =
    Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  if (empty) return [invalid(`${field}.selector`, selector, `empty selector is invalid for ${kindLabel}`)];
  const errors = validateLabels(selector.matchLabels, `${field}.selector.matchLabels`);
  const labels = spec.template?.metadata?.labels;
  if (spec.template && !selectorMatches(selector, labels)) {
    errors.push(
      invalid(
        `${field}.template.metadata.labels`,
        labels ?? {},
        "`selector` does not match template `labels`",
      ),
    );
  }
  return errors;
}

function intOrPercent(value: unknown, replicasBase = 100): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\d+%$/.test(value))
    return Math.round((Number(value.slice(0, -1)) * replicasBase) / 100);
  return undefined;
}

function nonNegative(value: unknown, field: string): FieldError[] {
  if (value === undefined) return [];
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    return [invalid(field, value, "must be greater than or equal to 0")];
  }
  return [];
}

function deploymentErrors(spec: Json): FieldError[] {
  const errors = [
    ...selectorErrors(spec, "spec", "deployment"),
    ...nonNegative(spec?.replicas, "spec.replicas"),
    ...validateTemplate(spec?.template, "spec.template", ["Always"]),
  ];
  const strategy = spec?.strategy;
  if (strategy?.type !== undefined && !["RollingUpdate", "Recreate"].includes(strategy.type)) {
    errors.push(notSupported("spec.strategy.type", strategy.type, ["Recreate", "RollingUpdate"]));
  }
  if (strategy?.type === "Recreate" && strategy.rollingUpdate) {
    errors.push(
      forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"),
    );
  }
  const rolling = strategy?.rollingUpdate;
  if (rolling) {
    for (const key of ["maxSurge", "maxUnavailable"]) {
      const value = rolling[key];
      if (value !== undefined && intOrPercent(value) === undefined) {
        errors.push(
          invalid(
            `spec.strategy.rollingUpdate.${key}`,
            value,
            "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
          ),
        );
      }
    }
    if (intOrPercent(rolling.maxSurge) === 0 && intOrPercent(rolling.maxUnavailable) === 0) {
      errors.push(
        invalid(
          "spec.strategy.rollingUpdate.maxUnavailable",
          rolling.maxUnavailable,
          "may not be 0 when `maxSurge` is 0",
        ),
      );
    }
    if ((intOrPercent(rolling.maxUnavailable) ?? 0) > 100 && String(rolling.maxUnavailable).endsWith("%")) {
      errors.push(
        invalid(
          "spec.strategy.rollingUpdate.maxUnavailable",
          rolling.maxUnavailable,
          "must not be greater than 100%",
        ),
      );
    }
  }
  return errors;
}

function serviceErrors(spec: Json): FieldError[] {
  if (!spec) return [required("spec")];
  const errors: FieldError[] = [];
  const types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
  if (spec.type !== undefined && !types.includes(spec.type))
    errors.push(notSupported("spec.type", spec.type, types));
  const ports: Json[] = spec.ports ?? [];
  if (spec.type !== "ExternalName" && spec.clusterIP !== "None" && ports.length === 0)
    errors.push(required("spec.ports"));
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const at = `spec.ports[${i}]`;
    if (ports.length > 1 && !port?.name) errors.push(required(`${at}.name`));
    if (port?.name) {
      if (names.has(port.name))
        errors.push({
          field: `${at}.name`,
          reason: "FieldValueDuplicate",
          message: `Duplicate value: ${JSON.stringify(port.name)}`,
        });
      names.add(port.name);
    }
    if (!(Number.isInteger(port?.port) && port.port >= 1 && port.port <= 65535)) {
      errors.push(
        port?.port === undefined
          ? required(`${at}.port`)
          : invalid(`${at}.port`, port.port, "must be between 1 and 65535, inclusive"),
      );
    }
  });
  if (spec.type === "ExternalName" && !spec.externalName) errors.push(required("spec.externalName"));
  const affinities = ["ClientIP", "None"];
  if (spec.sessionAffinity !== undefined && !affinities.includes(spec.sessionAffinity)) {
    errors.push(notSupported("spec.sessionAffinity", spec.sessionAffinity, affinities));
  }
  return errors;
}

const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];

function accessModeErrors(modes: Json, field: string): FieldError[] {
  if (!Array.isArray(modes) || modes.length === 0)
    return [required(field, "at least 1 access mode is required")];
  return modes.filter((m) => !ACCESS_MODES.includes(m)).map((m) => notSupported(field, m, ACCESS_MODES));
}

const VOLUME_SOURCES = [
  "csi",
  "nfs",
  "hostPath",
  "local",
  "awsElasticBlockStore",
  "iscsi",
  "fc",
  "cephfs",
  "rbd",
];

function kindErrors(kind: string, object: KubeObject): FieldError[] {
  const spec = object.spec;
  switch (kind) {
    case "Pod":
      return validatePodSpec(spec, "spec");
    case "Deployment":
      return deploymentErrors(spec);
    case "ReplicaSet":
      return [
        ...selectorErrors(spec, "spec", "replicaset"),
        ...nonNegative(spec?.replicas, "spec.replicas"),
        ...validateTemplate(spec?.template, "spec.template", ["Always"]),
      ];
    case "DaemonSet":
      return [
        ...selectorErrors(spec, "spec", "daemonset"),
        ...validateTemplate(spec?.template, "spec.template", ["Always"]),
      ];
    case "Job":
      return [
        ...(spec?.manualSelector ? selectorErrors(spec, "spec", "job") : []),
        ...nonNegative(spec?.backoffLimit, "spec.backoffLimit"),
        ...nonNegative(spec?.parallelism, "spec.parallelism"),
        ...nonNegative(spec?.completions, "spec.completions"),
        ...validateTemplate(spec?.template, "spec.template", ["OnFailure", "Never"]),
      ];
    case "CronJob": {
      const errors: FieldError[] = [];
      const schedule = spec?.schedule;
      if (!schedule) errors.push(required("spec.schedule"));
      else if (/^\s*(CRON_)?TZ=/.test(schedule)) {
        errors.push(
          invalid(
            "spec.schedule",
            schedule,
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
          ),
        );
      } else {
        const problem = cronSchedule(schedule);
        if (problem)
          errors.push(invalid("spec.schedule", schedule, problem.replace(/^a valid cron expression: /, "")));
      }
      if (spec?.timeZone !== undefined) {
        try {
          new Intl.DateTimeFormat("en-US", { timeZone: spec.timeZone });
        } catch {
          errors.push(invalid("spec.timeZone", spec.timeZone, `unknown time zone ${spec.timeZone}`));
        }
      }
      const policies = ["Allow", "Forbid", "Replace"];
      if (spec?.concurrencyPolicy !== undefined && !policies.includes(spec.concurrencyPolicy)) {
        errors.push(notSupported("spec.concurrencyPolicy", spec.concurrencyPolicy, policies));
      }
      errors.push(...nonNegative(spec?.startingDeadlineSeconds, "spec.startingDeadlineSeconds"));
      const template = spec?.jobTemplate?.spec?.template;
      errors.push(...validateTemplate(template, "spec.jobTemplate.spec.template", ["OnFailure", "Never"]));
      return errors;
    }
    case "PersistentVolumeClaim": {
      const errors = accessModeErrors(spec?.accessModes, "spec.accessModes");
      if (spec?.resources?.requests?.storage === undefined) errors.push(required("spec.resources[storage]"));
      return errors;
    }
    case "PersistentVolume": {
      const errors = accessModeErrors(spec?.accessModes, "spec.accessModes");
      if (spec?.capacity?.storage === undefined) errors.push(required("spec.capacity"));
      if (!VOLUME_SOURCES.some((source) => spec?.[source]))
        errors.push(required("spec", "must specify a volume type"));
      if (spec?.csi && !spec.csi.driver) errors.push(required("spec.csi.driver"));
      if (spec?.csi && !spec.csi.volumeHandle) errors.push(required("spec.csi.volumeHandle"));
      const policies = ["Delete", "Recycle", "Retain"];
      if (
        spec?.persistentVolumeReclaimPolicy !== undefined &&
        !policies.includes(spec.persistentVolumeReclaimPolicy)
      ) {
        errors.push(
          notSupported("spec.persistentVolumeReclaimPolicy", spec.persistentVolumeReclaimPolicy, policies),
        );
      }
      return errors;
    }
    case "PodDisruptionBudget": {
      const errors: FieldError[] = [];
      if (spec?.minAvailable !== undefined && spec?.maxUnavailable !== undefined) {
        errors.push(invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"));
      }
      for (const key of ["minAvailable", "maxUnavailable"]) {
        const value = spec?.[key];
        if (value !== undefined && intOrPercent(value) === undefined) {
          errors.push(invalid(`spec.${key}`, value, "must be an integer or percentage (e.g '5%')"));
        } else if (typeof value === "number" && value < 0) {
          errors.push(invalid(`spec.${key}`, value, "must be greater than or equal to 0"));
        }
      }
      errors.push(...validateLabels(spec?.selector?.matchLabels, "spec.selector.matchLabels"));
      return errors;
    }
    case "Service":
      return serviceErrors(spec);
    case "StorageClass":
      return object.provisioner ? [] : [required("provisioner")];
    case "CSIDriver":
      return [];
    case "VolumeSnapshot": {
      const source = spec?.source ?? {};
      const count = ["persistentVolumeClaimName", "volumeSnapshotContentName"].filter(
        (k) => source[k],
      ).length;
      return count === 1
        ? []
        : [
            invalid(
              "spec.source",
              source,
              "Exactly one of persistentVolumeClaimName or volumeSnapshotContentName should be set",
            ),
          ];
    }
    case "VolumeSnapshotClass": {
      const errors: FieldError[] = [];
      if (!object.driver) errors.push(required("driver"));
      if (!["Delete", "Retain"].includes(object.deletionPolicy)) {
        errors.push(notSupported("deletionPolicy", object.deletionPolicy, ["Delete", "Retain"]));
      }
      return errors;
    }
    case "EndpointSlice": {
      const types = ["IPv4", "IPv6", "FQDN"];
      return types.includes(object.addressType)
        ? []
        : [notSupported("addressType", object.addressType, types)];
    }
    case "Secret":
    case "ConfigMap": {
      const errors: FieldError[] = [];
      for (const key of Object.keys(object.data ?? {})) {
        if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253) {
          errors.push(
            invalid(
              "data",
              key,
              "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
            ),
          );
        }
      }
      if (kind === "Secret") {
        for (const [key, value] of Object.entries(object.data ?? {})) {
          if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
            errors.push(invalid(`data[${key}]`, value, "must be base64-encoded"));
          }
        }
      }
      return errors;
    }
    default:
      return [];
  }
}

function updateErrors(kind: string, object: KubeObject, old: KubeObject): FieldError[] {
  const spec = object.spec;
  const oldSpec = old.spec;
  switch (kind) {
    case "Pod":
      return podSpecUpdateErrors(object, old);
    case "Deployment":
    case "ReplicaSet":
    case "DaemonSet":
      return deepEqual(spec?.selector, oldSpec?.selector) ? [] : [immutable("spec.selector", spec?.selector)];
    case "Job": {
      const errors: FieldError[] = [];
      if (!deepEqual(spec?.selector, oldSpec?.selector))
        errors.push(immutable("spec.selector", spec?.selector));
      if (!deepEqual(spec?.template, oldSpec?.template))
        errors.push(immutable("spec.template", spec?.template));
      if (!deepEqual(spec?.completions, oldSpec?.completions))
        errors.push(immutable("spec.completions", spec?.completions));
      return errors;
    }
    case "Service": {
      const errors: FieldError[] = [];
      if (oldSpec?.clusterIP && spec?.clusterIP !== oldSpec.clusterIP && oldSpec.type !== "ExternalName") {
        errors.push(immutable("spec.clusterIPs[0]", spec?.clusterIP));
      }
      return errors;
    }
    case "PersistentVolumeClaim": {
      const strip = (s: Json): Json => {
        const copy = structuredClone(s ?? {});
        delete copy.resources;
        delete copy.volumeAttributesClassName;
        // The volume binder sets volumeName once.
        if (!oldSpec?.volumeName) delete copy.volumeName;
        return copy;
      };
      const errors: FieldError[] = [];
      if (!deepEqual(strip(spec), strip(oldSpec))) {
        errors.push(
          forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
          ),
        );
      }
      const before = storageBytes(oldSpec?.resources?.requests?.storage);
      const after = storageBytes(spec?.resources?.requests?.storage);
      if (before !== undefined && after !== undefined && after < before) {
        errors.push(
          forbidden("spec.resources.requests.storage", "field can not be less than status.capacity"),
        );
      }
      return errors;
    }
    case "PersistentVolume": {
      const source = (s: Json) => Object.fromEntries(VOLUME_SOURCES.map((k) => [k, s?.[k]]));
      return deepEqual(source(spec), source(oldSpec))
        ? []
        : [
            forbidden(
              "spec.persistentvolumesource",
              "spec.persistentvolumesource is immutable after creation",
            ),
          ];
    }
    case "StorageClass": {
      const errors: FieldError[] = [];
      if (!deepEqual(object.parameters, old.parameters))
        errors.push(forbidden("parameters", "updates to parameters are forbidden."));
      if (object.provisioner !== old.provisioner)
        errors.push(forbidden("provisioner", "updates to provisioner are forbidden."));
      if (!deepEqual(object.reclaimPolicy, old.reclaimPolicy))
        errors.push(forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."));
      return errors;
    }
    case "VolumeSnapshot":
      return deepEqual(spec?.source, oldSpec?.source)
        ? []
        : [invalid("spec.source", spec?.source, "spec.source is immutable")];
    case "Secret":
    case "ConfigMap": {
      if (old.immutable !== true) return [];
      const errors: FieldError[] = [];
      if (object.immutable !== true)
        errors.push(forbidden("immutable", "field is immutable when `immutable` is set"));
      if (!deepEqual(object.data, old.data))
        errors.push(forbidden("data", "field is immutable when `immutable` is set"));
      if (kind === "Secret" && object.type !== old.type) errors.push(immutable("type", object.type));
      return errors;
    }
    default:
      return [];
  }
}

const UNITS: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  "": 1,
};

function storageBytes(quantity: unknown): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(String(quantity ?? ""));
  return match ? Number(match[1]) * (UNITS[match[2] ?? ""] ?? 1) : undefined;
}

/** Field errors for an object about to be stored (`old` is the stored one on update). */
export function validateObject(
  type: ServedType,
  object: KubeObject,
  old: KubeObject | undefined,
): FieldError[] {
  const errors = [...metadataErrors(type, object), ...kindErrors(type.kind, object)];
  if (old !== undefined) {
    if (type.kind === "Secret" && object.type !== old.type && old.immutable !== true) {
      errors.push(immutable("type", object.type));
    }
    errors.push(...updateErrors(type.kind, object, old));
  }
  return errors;
}
