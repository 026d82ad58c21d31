/**
 * Events as the components of a real cluster record them (core/v1 Event): one object per involved
 * object, reason and message, whose count and lastTimestamp grow when the same thing happens again,
 * and which expire after an hour, as the API server's event TTL does.
 */
import { ApiError, type KubeObject, type ObjectStore, type SandboxClock } from "../types.js";
import { isExpectedError, timestamp } from "./runtime.js";

const EVENT_TTL_MS = 60 * 60 * 1000;

export interface EventSource {
  component: string;
  host?: string;
}

/** `fieldPath` names the part of the object, e.g. `spec.containers{registry}` for a pod's container. */
export type RecordEvent = (
  object: KubeObject,
  reason: string,
  message: string,
  source: EventSource | string,
  fieldPath?: string,
) => void;

export interface EventRecorder {
  normal: RecordEvent;
  warning: RecordEvent;
  stop(): void;
}

export function createEventRecorder(
  store: ObjectStore,
  clock: SandboxClock,
  onError: (error: unknown) => void,
): EventRecorder {
  // aggregation key -> event name; lost on restart, when the next occurrence simply starts a new event
  const seen = new Map<string, { namespace: string; name: string }>();
  const timers = new Set<() => void>();
  let sequence = 0;
  let stopped = false;

  function expire(namespace: string, name: string, key: string): void {
    const cancel = clock.after(EVENT_TTL_MS, () => {
      timers.delete(cancel);
      const event = store.get("Event", namespace, name);
      if (event === undefined) return;
      const last = Date.parse(event.lastTimestamp ?? event.firstTimestamp ?? "");
      if (!Number.isNaN(last) && last + EVENT_TTL_MS > clock.now()) {
        expire(namespace, name, key);
        return;
      }
      seen.delete(key);
      try {
        store.delete("Event", namespace, name);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 404)) onError(error);
      }
    });
    timers.add(cancel);
  }

  function record(
    object: KubeObject,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
    from: EventSource | string,
    fieldPath?: string,
  ) {
    if (stopped) return;
    const source = typeof from === "string" ? { component: from } : from;
    const namespace = object.metadata.namespace ?? "default";
    const now = clock.now();
    const key = [
      object.metadata.uid ?? object.metadata.name,
      object.kind,
      fieldPath,
      type,
      reason,
      message,
      source.component,
    ].join("\u0000");
    try {
      const previous = seen.get(key);
      const existing = previous ? store.get("Event", previous.namespace, previous.name) : undefined;
      if (existing) {
        store.update({ ...existing, count: (existing.count ?? 1) + 1, lastTimestamp: timestamp(now) });
        return;
      }
      // Real event names are the object's name and a hex timestamp in nanoseconds.
      const suffix = (BigInt(Math.floor(now)) * 1_000_000n + BigInt(sequence++ % 1_000_000)).toString(16);
      const name = `${object.metadata.name}.${suffix}`;
      store.create({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: object.metadata.name,
          namespace: object.metadata.namespace,
          uid: object.metadata.uid,
          resourceVersion: object.metadata.resourceVersion,
          ...(fieldPath ? { fieldPath } : {}),
        },
        reason,
        message,
        type,
        source,
        count: 1,
        firstTimestamp: timestamp(now),
        lastTimestamp: timestamp(now),
        reportingComponent: source.component,
        reportingInstance: source.host ?? "",
      });
      seen.set(key, { namespace, name });
      expire(namespace, name, key);
    } catch (error) {
      // An event for an object whose namespace is going away is simply lost, as on a real cluster.
      if (!isExpectedError(error)) onError(error);
    }
  }

  return {
    normal: (object, reason, message, source, fieldPath) =>
      record(object, "Normal", reason, message, source, fieldPath),
    warning: (object, reason, message, source, fieldPath) =>
      record(object, "Warning", reason, message, source, fieldPath),
    stop() {
      stopped = true;
      for (const cancel of timers) cancel();
      timers.clear();
    },
  };
}
