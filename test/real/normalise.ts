/**
 * Objects as `kubectl get -o json` prints them, reduced to what two clusters running the same scenario
 * should agree on: no identities or times the server assigns (uid, resourceVersion, timestamps, the
 * managedFields' times), no generated names or random values (a Secret's bytes, cluster IPs, node ports,
 * the pull Secret's load balancer name), and nothing this harness cannot have (see IGNORED below).
 */

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as kubectl prints them.
type Any = any;

/**
 * Differences that come from the clusters, not from either one's fidelity, each with why:
 * - the load balancer: the sandbox runs a real TCP proxy (ingress[0].ip 127.0.0.1 and ports), the real
 *   control plane the harness's made-up NLB host name; and so the names that carry it (the pull Secret's
 *   registry, the node-trust ConfigMap's hosts.toml path);
 * - certificates and passwords are random per deploy: a Secret's values are compared by their keys, and
 *   the pod template's checksum annotations (and so the ReplicaSet's name) differ with them.
 */
const TIME_KEYS = new Set([
  "creationTimestamp",
  "lastTransitionTime",
  "lastUpdateTime",
  "lastHeartbeatTime",
  "lastProbeTime",
  "startTime",
  "startedAt",
  "finishedAt",
  "time",
  "lastPhaseTransitionTime",
  "timeAdded",
]);

function scrub(value: Any): Any {
  if (Array.isArray(value)) return value.map(scrub);
  if (value === null || typeof value !== "object") return value;
  const out: Any = {};
  for (const [key, inner] of Object.entries(value)) {
    if (TIME_KEYS.has(key)) {
      out[key] = "<time>";
      continue;
    }
    out[key] = scrub(inner);
  }
  return out;
}

/** One object reduced for comparison. */
export function normalise(object: Any): Any {
  const copy = structuredClone(object);
  const metadata = copy.metadata ?? {};
  for (const key of ["uid", "resourceVersion", "selfLink"]) delete metadata[key];
  if (metadata.generateName) metadata.name = `${metadata.generateName}<generated>`;
  for (const owner of metadata.ownerReferences ?? []) delete owner.uid;
  // Which managers wrote which fields is compared; when is not.
  metadata.managedFields = (metadata.managedFields ?? [])
    .map((entry: Any) => ({
      manager: entry.manager,
      operation: entry.operation,
      ...(entry.subresource ? { subresource: entry.subresource } : {}),
      fieldsV1: entry.fieldsV1,
    }))
    .sort((a: Any, b: Any) =>
      `${a.manager}/${a.subresource ?? ""}`.localeCompare(`${b.manager}/${b.subresource ?? ""}`),
    );
  // The bound claim's identity (uid, resourceVersion) is the server's.
  if (copy.spec?.claimRef) {
    delete copy.spec.claimRef.uid;
    delete copy.spec.claimRef.resourceVersion;
  }
  // Conditions name the ReplicaSet, whose name ends in a hash of the pod template (which holds checksums).
  for (const condition of copy.status?.conditions ?? [])
    if (typeof condition.message === "string")
      condition.message = condition.message.replace(/"([a-z0-9-]+)-[a-z0-9]{8,10}"/g, '"$1-<hash>"');
  if (copy.kind === "Secret") {
    copy.data = Object.fromEntries(Object.keys(copy.data ?? {}).map((key) => [key, "<bytes>"]));
  }
  if (copy.kind === "ConfigMap" && metadata.name === "registry-clouddrove-ca") {
    copy.data = Object.fromEntries(Object.keys(copy.data ?? {}).map((key) => [key, "<certificate>"]));
  }
  if (copy.kind === "Service") {
    delete copy.spec.clusterIP;
    delete copy.spec.clusterIPs;
    for (const port of copy.spec.ports ?? []) if (port.nodePort !== undefined) port.nodePort = "<port>";
    if (copy.spec.healthCheckNodePort !== undefined) copy.spec.healthCheckNodePort = "<port>";
    delete copy.status?.loadBalancer;
  }
  // Checksums of random content (the htpasswd, the certificate) in the pod template's annotations.
  const templateAnnotations = copy.spec?.template?.metadata?.annotations;
  if (templateAnnotations) {
    for (const key of Object.keys(templateAnnotations))
      if (/checksum|fingerprint|hash|sha256/i.test(key)) templateAnnotations[key] = "<checksum>";
  }
  for (const key of Object.keys(metadata.annotations ?? {}))
    if (/checksum|fingerprint|hash|load-balancer|registry-host/i.test(key))
      metadata.annotations[key] = "<varies>";
  return scrub(copy);
}

/** The paths at which two JSON values differ, with both sides: "a.b[2].c: left | right". */
export function differences(left: Any, right: Any, path = ""): string[] {
  if (JSON.stringify(left) === JSON.stringify(right)) return [];
  const bothObjects =
    left !== null &&
    right !== null &&
    typeof left === "object" &&
    typeof right === "object" &&
    Array.isArray(left) === Array.isArray(right);
  if (!bothObjects) return [`${path || "."}: ${JSON.stringify(left)} | ${JSON.stringify(right)}`];
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...keys].flatMap((key) =>
    differences(
      left[key],
      right[key],
      Array.isArray(left) ? `${path}[${key}]` : path ? `${path}.${key}` : key,
    ),
  );
}
