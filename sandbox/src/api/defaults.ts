/**
 * Defaulting, as the real API server's defaulters and default admission plugins fill in fields that
 * clients leave out (so objects read back look like a cluster's, and controllers can rely on them).
 * Mutates the object it is given.
 */
import type { ServedType } from "../resources.js";

export interface DefaultingContext {
  /** Returns true when a Service already holds this cluster IP / node port. */
  clusterIPInUse(ip: string): boolean;
  nodePortInUse(port: number): boolean;
  /** The StorageClass annotated as the default one, if any (DefaultStorageClass admission). */
  defaultStorageClass(): string | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: defaulting walks untyped JSON
type Json = any;

function setDefault(target: Json, key: string, value: unknown): void {
  if (target[key] === undefined || target[key] === null) target[key] = value;
}

function defaultProbe(probe: Json): void {
  if (!probe || typeof probe !== "object") return;
  setDefault(probe, "timeoutSeconds", 1);
  setDefault(probe, "periodSeconds", 10);
  setDefault(probe, "successThreshold", 1);
  setDefault(probe, "failureThreshold", 3);
  if (probe.httpGet) setDefault(probe.httpGet, "scheme", "HTTP");
}

function defaultContainer(container: Json): void {
  if (!container || typeof container !== "object") return;
  const image = String(container.image ?? "");
  const lastPart = image.split("/").pop() ?? "";
  const tagged = lastPart.includes(":") || image.includes("@");
  const latest = !tagged || lastPart.endsWith(":latest");
  setDefault(container, "imagePullPolicy", latest ? "Always" : "IfNotPresent");
  setDefault(container, "terminationMessagePath", "/dev/termination-log");
  setDefault(container, "terminationMessagePolicy", "File");
  setDefault(container, "resources", {});
  for (const port of container.ports ?? []) setDefault(port, "protocol", "TCP");
  for (const variable of container.env ?? []) defaultFieldRef(variable?.valueFrom?.fieldRef);
  for (const field of ["livenessProbe", "readinessProbe", "startupProbe"]) defaultProbe(container[field]);
}

/** A fieldRef's apiVersion defaults to v1 (SetDefaults_ObjectFieldSelector), in env and downward API items. */
function defaultFieldRef(fieldRef: Json): void {
  if (fieldRef && typeof fieldRef === "object") setDefault(fieldRef, "apiVersion", "v1");
}

/** The file mode of ConfigMap, Secret, projected and downward API volumes defaults to 0644 (420). */
function defaultVolume(volume: Json): void {
  if (!volume || typeof volume !== "object") return;
  for (const source of ["configMap", "secret", "projected", "downwardAPI"]) {
    if (volume[source] && typeof volume[source] === "object") setDefault(volume[source], "defaultMode", 420);
  }
  for (const item of volume.downwardAPI?.items ?? []) defaultFieldRef(item.fieldRef);
  for (const projection of volume.projected?.sources ?? [])
    for (const item of projection?.downwardAPI?.items ?? []) defaultFieldRef(item.fieldRef);
}

export function defaultPodSpec(spec: Json): void {
  if (!spec || typeof spec !== "object") return;
  // The deprecated serviceAccount mirrors serviceAccountName in every pod spec the API returns,
  // templates included (the v1 conversion copies it).
  if (spec.serviceAccountName) setDefault(spec, "serviceAccount", spec.serviceAccountName);
  for (const volume of spec.volumes ?? []) defaultVolume(volume);
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "schedulerName", "default-scheduler");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "securityContext", {});
  setDefault(spec, "enableServiceLinks", true);
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    defaultContainer(container);
  }
}

function defaultTemplate(template: Json): void {
  if (!template || typeof template !== "object") return;
  setDefault(template, "metadata", {});
  defaultPodSpec(template.spec);
}

function quantityOf(resources: Json, kind: "requests" | "limits", name: string): string | undefined {
  const value = resources?.[kind]?.[name];
  return value === undefined ? undefined : String(value);
}

/** The pod's QoS class, as the kubelet and API server compute it. */
export function qosClass(spec: Json): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers: Json[] = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const container of containers) {
    for (const resource of ["cpu", "memory"]) {
      const request = quantityOf(container.resources, "requests", resource);
      const limit = quantityOf(container.resources, "limits", resource);
      if (request !== undefined || limit !== undefined) any = true;
      if (limit === undefined || (request !== undefined && request !== limit)) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

function addDefaultTolerations(spec: Json): void {
  // The DefaultTolerationSeconds admission plugin: pods tolerate a NotReady/unreachable node for 300 s.
  spec.tolerations ??= [];
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    const present = spec.tolerations.some(
      (t: Json) =>
        (t.key === key || (t.key === undefined && t.operator === "Exists")) &&
        (t.effect ?? "NoExecute") === "NoExecute",
    );
    if (!present) {
      spec.tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
    }
  }
}

function randomClusterIP(context: DefaultingContext): string {
  // EKS's default service CIDR is 10.100.0.0/16.
  for (;;) {
    const ip = `10.100.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
    if (ip !== "10.100.0.10" && !context.clusterIPInUse(ip)) return ip;
  }
}

function randomNodePort(context: DefaultingContext, taken: Set<number>): number {
  for (;;) {
    const port = 30000 + Math.floor(Math.random() * 2768);
    if (!taken.has(port) && !context.nodePortInUse(port)) return port;
  }
}

function defaultService(service: Json, old: Json, context: DefaultingContext): void {
  service.spec ??= {};
  const spec = service.spec;
  setDefault(spec, "type", "ClusterIP");
  setDefault(spec, "sessionAffinity", "None");
  setDefault(spec, "internalTrafficPolicy", "Cluster");
  for (const port of spec.ports ?? []) {
    setDefault(port, "protocol", "TCP");
    setDefault(port, "targetPort", port.port);
  }
  if (old?.spec) {
    // Values the server allocated are kept when an update leaves them out (as `kubectl apply` does).
    setDefault(spec, "clusterIP", old.spec.clusterIP);
    setDefault(spec, "clusterIPs", old.spec.clusterIPs);
    for (const port of spec.ports ?? []) {
      const before = (old.spec.ports ?? []).find(
        (p: Json) => p.port === port.port && (p.protocol ?? "TCP") === port.protocol,
      );
      if (before?.nodePort !== undefined) setDefault(port, "nodePort", before.nodePort);
    }
  }
  if (spec.type !== "ExternalName") {
    setDefault(spec, "ipFamilies", ["IPv4"]);
    setDefault(spec, "ipFamilyPolicy", "SingleStack");
    if (spec.clusterIP === undefined || spec.clusterIP === "") spec.clusterIP = randomClusterIP(context);
    setDefault(spec, "clusterIPs", [spec.clusterIP]);
  }
  if (spec.type === "NodePort" || spec.type === "LoadBalancer") {
    setDefault(spec, "externalTrafficPolicy", "Cluster");
    const taken = new Set<number>();
    for (const port of spec.ports ?? []) {
      if (port.nodePort === undefined) port.nodePort = randomNodePort(context, taken);
      taken.add(port.nodePort);
    }
  }
  if (spec.type === "LoadBalancer") {
    setDefault(spec, "allocateLoadBalancerNodePorts", true);
    // A LoadBalancer Service that keeps traffic on the receiving node gets a node port for the load
    // balancer's health checks (kept across updates, like the other allocated ports).
    if (spec.externalTrafficPolicy === "Local") {
      setDefault(spec, "healthCheckNodePort", old?.spec?.healthCheckNodePort);
      if (spec.healthCheckNodePort === undefined) {
        const taken = new Set<number>((spec.ports ?? []).map((p: Json) => p.nodePort));
        spec.healthCheckNodePort = randomNodePort(context, taken);
      }
    }
  }
}

/** Fills in defaults. `old` is the stored object on update (undefined on create). */
export function applyDefaults(type: ServedType, object: Json, old: Json, context: DefaultingContext): void {
  const creating = old === undefined;
  const spec = object.spec;
  switch (type.kind) {
    case "Namespace":
      object.metadata.labels = {
        ...object.metadata.labels,
        "kubernetes.io/metadata.name": object.metadata.name,
      };
      object.spec ??= {};
      setDefault(object.spec, "finalizers", ["kubernetes"]);
      if (creating) object.status = { phase: "Active" };
      break;
    case "Pod":
      defaultPodSpec(spec);
      if (creating && spec) {
        setDefault(spec, "serviceAccountName", "default");
        setDefault(spec, "serviceAccount", spec.serviceAccountName);
        setDefault(spec, "priority", 0);
        setDefault(spec, "preemptionPolicy", "PreemptLowerPriority");
        addDefaultTolerations(spec);
        object.status = { phase: "Pending", qosClass: qosClass(spec) };
      }
      break;
    case "Deployment":
      if (!spec) break;
      setDefault(spec, "replicas", 1);
      setDefault(spec, "revisionHistoryLimit", 10);
      setDefault(spec, "progressDeadlineSeconds", 600);
      spec.strategy ??= {};
      setDefault(spec.strategy, "type", "RollingUpdate");
      if (spec.strategy.type === "RollingUpdate") {
        spec.strategy.rollingUpdate ??= {};
        setDefault(spec.strategy.rollingUpdate, "maxSurge", "25%");
        setDefault(spec.strategy.rollingUpdate, "maxUnavailable", "25%");
      }
      defaultTemplate(spec.template);
      break;
    case "ReplicaSet":
      if (!spec) break;
      setDefault(spec, "replicas", 1);
      defaultTemplate(spec.template);
      break;
    case "DaemonSet":
      if (!spec) break;
      setDefault(spec, "revisionHistoryLimit", 10);
      spec.updateStrategy ??= {};
      setDefault(spec.updateStrategy, "type", "RollingUpdate");
      if (spec.updateStrategy.type === "RollingUpdate") {
        spec.updateStrategy.rollingUpdate ??= {};
        setDefault(spec.updateStrategy.rollingUpdate, "maxUnavailable", 1);
        setDefault(spec.updateStrategy.rollingUpdate, "maxSurge", 0);
      }
      defaultTemplate(spec.template);
      break;
    case "Job":
      if (!spec) break;
      setDefault(spec, "parallelism", 1);
      setDefault(spec, "completions", 1);
      setDefault(spec, "backoffLimit", 6);
      setDefault(spec, "completionMode", "NonIndexed");
      setDefault(spec, "suspend", false);
      setDefault(spec, "podReplacementPolicy", "TerminatingOrFailed");
      if (creating && spec.manualSelector !== true && object.metadata.uid) {
        // The Job's generated selector ties its pods to this one Job, by uid.
        const uid = object.metadata.uid;
        const name = object.metadata.name;
        spec.selector = { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
        spec.template ??= {};
        spec.template.metadata ??= {};
        spec.template.metadata.labels = {
          ...spec.template.metadata.labels,
          "batch.kubernetes.io/controller-uid": uid,
          "batch.kubernetes.io/job-name": name,
          "controller-uid": uid,
          "job-name": name,
        };
      }
      defaultTemplate(spec.template);
      break;
    case "CronJob":
      if (!spec) break;
      setDefault(spec, "concurrencyPolicy", "Allow");
      setDefault(spec, "suspend", false);
      setDefault(spec, "successfulJobsHistoryLimit", 3);
      setDefault(spec, "failedJobsHistoryLimit", 1);
      if (spec.jobTemplate?.spec) {
        setDefault(spec.jobTemplate.spec, "backoffLimit", 6);
        defaultTemplate(spec.jobTemplate.spec.template);
      }
      break;
    case "Service":
      defaultService(object, old, context);
      break;
    case "PersistentVolumeClaim":
      if (!spec) break;
      setDefault(spec, "volumeMode", "Filesystem");
      if (creating && spec.storageClassName === undefined) {
        const defaultClass = context.defaultStorageClass();
        if (defaultClass !== undefined) spec.storageClassName = defaultClass;
      }
      break;
    case "PersistentVolume":
      if (!spec) break;
      // A PV's storageClassName is a plain string field (omitempty): "" is not stored, unlike a claim's.
      if (spec.storageClassName === "") delete spec.storageClassName;
      setDefault(spec, "persistentVolumeReclaimPolicy", "Retain");
      setDefault(spec, "volumeMode", "Filesystem");
      if (creating) object.status = { phase: "Pending" };
      break;
    case "Secret":
      setDefault(object, "type", "Opaque");
      if (object.stringData && typeof object.stringData === "object") {
        object.data ??= {};
        for (const [key, value] of Object.entries(object.stringData)) {
          object.data[key] = Buffer.from(String(value)).toString("base64");
        }
        delete object.stringData;
      }
      break;
    case "StorageClass":
      setDefault(object, "reclaimPolicy", "Delete");
      setDefault(object, "volumeBindingMode", "Immediate");
      break;
    case "NetworkPolicy":
      if (!spec) break;
      setDefault(spec, "podSelector", {});
      setDefault(spec, "policyTypes", spec.egress ? ["Ingress", "Egress"] : ["Ingress"]);
      break;
  }
  if (creating && type.hasStatus && !["Namespace", "Pod", "PersistentVolume", "Node"].includes(type.kind)) {
    // The status subresource belongs to controllers: a create does not set it (nodes register with theirs).
    object.status = initialStatus(type.kind);
  }
}

function initialStatus(kind: string): Json {
  switch (kind) {
    case "Service":
      return { loadBalancer: {} };
    case "PersistentVolumeClaim":
      return { phase: "Pending" };
    case "PodDisruptionBudget":
      return { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    default:
      return {};
  }
}
