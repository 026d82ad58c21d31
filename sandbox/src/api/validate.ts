/**
 * Per-kind validation on create and update: what a real API server rejects for the served kinds
 * (required fields, selectors that must match templates, immutable fields, names). Returns field errors;
 * admission.ts turns them into a 422 Invalid Status.
 */
import type { ServedType } from "../resources.js";
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
import { podSpecUpdateErrors, validateLabels, validatePodSpec } from "./validate-pod.js";
import { intOrPercent, workloadErrors, workloadUpdateErrors } from "./validate-workloads.js";

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
  const workload = workloadErrors(kind, object);
  if (workload) return workload;
  const spec = object.spec;
  switch (kind) {
    case "Pod":
      return validatePodSpec(spec, "spec");
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
  const workload = workloadUpdateErrors(kind, object, old);
  if (workload) return workload;
  const spec = object.spec;
  const oldSpec = old.spec;
  switch (kind) {
    case "Pod":
      return podSpecUpdateErrors(object, old);
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
