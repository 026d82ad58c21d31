/**
 * Validation of the workload kinds (Deployment, ReplicaSet, DaemonSet, Job, CronJob): selectors that
 * must match their templates, restart policies, rolling-update parameters, schedules, and the fields
 * that are immutable once created.
 */
import { parseCron } from "../controllers/cron.js";
import { selectorMatches } from "../selectors.js";
import type { KubeObject } from "../types.js";
import { type FieldError, forbidden, immutable, invalid, notSupported, required } from "./field-errors.js";
import { deepEqual, type Json } from "./json.js";
import { validateLabels, validateTemplate } from "./validate-pod.js";

export function selectorErrors(spec: Json, field: string, kindLabel: string): FieldError[] {
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

export function intOrPercent(value: unknown, replicasBase = 100): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\d+%$/.test(value))
    return Math.round((Number(value.slice(0, -1)) * replicasBase) / 100);
  return undefined;
}

export function nonNegative(value: unknown, field: string): FieldError[] {
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

/** Field errors of a workload on create and update; undefined for other kinds. */
export function workloadErrors(kind: string, object: KubeObject): FieldError[] | undefined {
  const spec = object.spec;
  switch (kind) {
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
        // The API server validates with the same parser the CronJob controller schedules with.
        try {
          parseCron(schedule);
        } catch (error) {
          errors.push(invalid("spec.schedule", schedule, (error as Error).message));
        }
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
    default:
      return undefined;
  }
}

/** Changes to immutable workload fields; undefined for other kinds. */
export function workloadUpdateErrors(
  kind: string,
  object: KubeObject,
  old: KubeObject,
): FieldError[] | undefined {
  const spec = object.spec;
  const oldSpec = old.spec;
  switch (kind) {
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
    default:
      return undefined;
  }
}
