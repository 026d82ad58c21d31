/**
 * Service plumbing: the Endpoints object and an EndpointSlice per selector Service, from the pods it
 * selects (ready ones as addresses, others as notReadyAddresses / ready=false, terminating ones
 * flagged), and the cloud provider's part for type LoadBalancer: an ELB hostname in
 * status.loadBalancer after a short while.
 */
import type { Backend, SandboxRuntime } from "../runtime/index.js";
import { selectorMatches } from "../selectors.js";
import type { KubeObject, WatchEvent } from "../types.js";
import { isPodReady } from "./pods.js";
import {
  type ControllerContext,
  createWithGeneratedName,
  deleteQuietly,
  keyOf,
  ownerReference,
  patchStatus,
  sameJson,
  splitKey,
  WorkQueue,
} from "./runtime.js";
import { clusterInfo } from "./seed.js";

const LOAD_BALANCER_DELAY_MS = 20_000;
const MANAGED_BY = "endpointslice-controller.k8s.io";

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
}

/** The container port a Service port reaches on a pod (a named targetPort is looked up in the pod). */
function resolvePort(pod: KubeObject, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === "number") return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const container of pod.spec?.containers ?? []) {
    for (const p of container.ports ?? []) {
      if (p.name === target && (p.protocol ?? "TCP") === (port.protocol ?? "TCP")) return p.containerPort;
    }
  }
  return undefined;
}

/**
 * `runtime`: the sandbox runtime. A LoadBalancer Service whose pods run as real processes gets a real
 * TCP proxy on 127.0.0.1 instead of a simulated ELB name (hooks marked "runtime hook").
 */
export function startEndpointsController(ctx: ControllerContext, runtime?: SandboxRuntime): void {
  const { store } = ctx;
  const queue = new WorkQueue(ctx, "endpoints", sync);
  const balancers = new Map<string, () => void>();
  // runtime hook: the proxies publish their address as the Service's load balancer ingress.
  const proxies = runtime?.createLoadBalancers((service, address) => {
    const { namespace, name, uid } = service.metadata;
    if (store.get("Service", namespace, name)?.metadata.uid !== uid) return;
    const updated = patchStatus(ctx, "Service", namespace, name, (next) => {
      next.status = { ...next.status, loadBalancer: { ingress: [address] } };
    });
    if (updated)
      ctx.events.normal(updated, "EnsuredLoadBalancer", "Ensured load balancer", "service-controller");
  });

  /** runtime hook: true when the sandbox runtime's proxy is (or now becomes) this Service's load balancer. */
  function proxyLoadBalancer(service: KubeObject): boolean {
    if (proxies === undefined || runtime === undefined) return false;
    const key = keyOf(service);
    if (service.spec?.type !== "LoadBalancer") {
      proxies.remove(key);
      return false;
    }
    const selector: Record<string, string> | undefined = service.spec?.selector;
    const namespace = service.metadata.namespace;
    const pods =
      selector && Object.keys(selector).length > 0
        ? store
            .list("Pod", { namespace })
            .filter((pod) => selectorMatches({ matchLabels: selector }, pod.metadata.labels))
        : [];
    // A Service that selects no pod yet gets the proxy too when registries run for real here: a real NLB
    // has its name before it has targets, and clouddrove's first deploy starts the pods only once the
    // address is known (the certificate names it). One that selects only simulated pods gets an ELB name.
    const awaitingPods = runtime.available && Object.keys(selector ?? {}).length > 0 && pods.length === 0;
    if (!proxies.has(key) && !awaitingPods && !pods.some((pod) => runtime.processes.runsForReal(pod)))
      return false;
    const serving = pods.filter((pod) => isPodReady(pod) && !pod.metadata.deletionTimestamp);
    const backends = new Map<number, Backend[]>();
    for (const port of (service.spec?.ports ?? []) as ServicePort[]) {
      backends.set(
        port.port,
        serving.flatMap((pod) => {
          const containerPort = resolvePort(pod, port);
          return containerPort === undefined ? [] : [{ namespace, pod: pod.metadata.name, containerPort }];
        }),
      );
    }
    balancers.get(key)?.(); // a simulated ELB still being "provisioned" is not needed any more
    balancers.delete(key);
    proxies.sync(service, backends);
    return true;
  }

  function sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const service = store.get("Service", namespace, name);
    if (service === undefined) {
      proxies?.remove(key); // runtime hook
      deleteQuietly(ctx, "Endpoints", namespace, name);
      return;
    }
    if (!proxyLoadBalancer(service)) ensureLoadBalancer(service);
    const selector: Record<string, string> | undefined = service.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) return; // endpoints are the user's to manage
    const publishNotReady = service.spec?.publishNotReadyAddresses === true;
    const ports: ServicePort[] = service.spec?.ports ?? [];
    const pods = store
      .list("Pod", { namespace })
      .filter((pod) => selectorMatches({ matchLabels: selector }, pod.metadata.labels))
      .filter(
        (pod) => pod.status?.podIP && pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed",
      )
      .sort((a, b) => String(a.status.podIP).localeCompare(String(b.status.podIP)));

    // Endpoints: pods grouped by the ports they resolve to; terminating pods are left out.
    const subsets = new Map<string, { ports: object[]; addresses: object[]; notReadyAddresses: object[] }>();
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp && !publishNotReady) continue;
      const resolved = ports
        .map((p) => ({ name: p.name, port: resolvePort(pod, p), protocol: p.protocol ?? "TCP" }))
        .filter((p) => p.port !== undefined);
      if (resolved.length === 0) continue;
      const groupKey = JSON.stringify(resolved);
      const subset = subsets.get(groupKey) ?? { ports: resolved, addresses: [], notReadyAddresses: [] };
      subsets.set(groupKey, subset);
      const address = {
        ip: pod.status.podIP,
        nodeName: pod.spec?.nodeName,
        targetRef: { kind: "Pod", name: pod.metadata.name, namespace, uid: pod.metadata.uid },
      };
      if (isPodReady(pod) || publishNotReady) subset.addresses.push(address);
      else subset.notReadyAddresses.push(address);
    }
    const endpoints: KubeObject = {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name, namespace, labels: { ...service.metadata.labels } },
    };
    const list = [...subsets.values()].map((s) => ({
      ...(s.addresses.length > 0 ? { addresses: s.addresses } : {}),
      ...(s.notReadyAddresses.length > 0 ? { notReadyAddresses: s.notReadyAddresses } : {}),
      ports: s.ports,
    }));
    if (list.length > 0) endpoints.subsets = list;
    const existing = store.get("Endpoints", namespace, name);
    if (existing === undefined) store.create(endpoints);
    else if (
      !sameJson(existing.subsets, endpoints.subsets) ||
      !sameJson(existing.metadata.labels, endpoints.metadata.labels)
    ) {
      store.update({
        ...existing,
        metadata: { ...existing.metadata, labels: endpoints.metadata.labels },
        subsets: endpoints.subsets,
      });
    }
    syncSlice(service, pods, ports, publishNotReady);
  }

  function syncSlice(
    service: KubeObject,
    pods: KubeObject[],
    ports: ServicePort[],
    publishNotReady: boolean,
  ): void {
    const namespace = service.metadata.namespace;
    const name = service.metadata.name;
    const first = pods[0];
    const slicePorts = ports.map((p) => ({
      name: p.name ?? "",
      port: first ? (resolvePort(first, p) ?? null) : null,
      protocol: p.protocol ?? "TCP",
    }));
    const endpoints = pods.map((pod) => {
      const terminating = pod.metadata.deletionTimestamp !== undefined;
      const serving = isPodReady(pod) || publishNotReady;
      const node = pod.spec?.nodeName ? store.get("Node", undefined, pod.spec.nodeName) : undefined;
      return {
        addresses: [pod.status.podIP],
        conditions: { ready: serving && !terminating, serving, terminating },
        nodeName: pod.spec?.nodeName,
        ...(node?.metadata.labels?.["topology.kubernetes.io/zone"]
          ? { zone: node.metadata.labels["topology.kubernetes.io/zone"] }
          : {}),
        targetRef: { kind: "Pod", name: pod.metadata.name, namespace, uid: pod.metadata.uid },
      };
    });
    const labels = {
      ...service.metadata.labels,
      "kubernetes.io/service-name": name,
      "endpointslice.kubernetes.io/managed-by": MANAGED_BY,
    };
    const existing = store
      .list("EndpointSlice", { namespace, labelSelector: `kubernetes.io/service-name=${name}` })
      .find((slice) => slice.metadata.labels?.["endpointslice.kubernetes.io/managed-by"] === MANAGED_BY);
    if (existing === undefined) {
      createWithGeneratedName(ctx, `${name}-`, (sliceName) => ({
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: {
          name: sliceName,
          namespace,
          labels,
          ownerReferences: [{ ...ownerReference(service), blockOwnerDeletion: true }],
        },
        addressType: "IPv4",
        endpoints,
        ports: slicePorts,
      }));
      return;
    }
    if (
      sameJson(existing.endpoints ?? [], endpoints) &&
      sameJson(existing.ports, slicePorts) &&
      sameJson(existing.metadata.labels, labels)
    )
      return;
    store.update({ ...existing, metadata: { ...existing.metadata, labels }, endpoints, ports: slicePorts });
  }

  function ensureLoadBalancer(service: KubeObject): void {
    const key = keyOf(service);
    const wantsBalancer = service.spec?.type === "LoadBalancer";
    const ingress = service.status?.loadBalancer?.ingress ?? [];
    if (!wantsBalancer) {
      balancers.get(key)?.();
      balancers.delete(key);
      if (ingress.length > 0) {
        patchStatus(ctx, "Service", service.metadata.namespace, service.metadata.name, (next) => {
          next.status = { ...next.status, loadBalancer: {} };
        });
      }
      return;
    }
    if (ingress.length > 0 || balancers.has(key)) return;
    ctx.events.normal(service, "EnsuringLoadBalancer", "Ensuring load balancer", "service-controller");
    const cancel = ctx.clock.after(LOAD_BALANCER_DELAY_MS, () => {
      balancers.delete(key);
      const current = ctx.store.get("Service", service.metadata.namespace, service.metadata.name);
      if (current?.spec?.type !== "LoadBalancer" || current.metadata.uid !== service.metadata.uid) return;
      const hostname = loadBalancerHostname(ctx, current);
      const updated = patchStatus(
        ctx,
        "Service",
        current.metadata.namespace,
        current.metadata.name,
        (next) => {
          next.status = { ...next.status, loadBalancer: { ingress: [{ hostname }] } };
        },
      );
      if (updated)
        ctx.events.normal(updated, "EnsuredLoadBalancer", "Ensured load balancer", "service-controller");
    });
    balancers.set(key, cancel);
  }

  const onService = (event: WatchEvent) => queue.add(keyOf(event.object));
  const onPod = (event: WatchEvent) => {
    for (const service of store.list("Service", { namespace: event.object.metadata.namespace }))
      queue.add(keyOf(service));
  };
  ctx.cleanups.push(store.subscribe("Service", onService), store.subscribe("Pod", onPod), () => {
    for (const cancel of balancers.values()) cancel();
    balancers.clear();
  });
  for (const service of store.list("Service")) queue.add(keyOf(service));
}

/** A Classic ELB name (a<uid>-<digits>.<region>.elb.amazonaws.com), or an NLB one when asked for. */
function loadBalancerHostname(ctx: ControllerContext, service: KubeObject): string {
  const { region } = clusterInfo(ctx.store);
  const type = service.metadata.annotations?.["service.beta.kubernetes.io/aws-load-balancer-type"];
  if (type === "nlb" || type === "external") {
    const prefix = `k8s-${service.metadata.namespace}-${service.metadata.name}`
      .slice(0, 32)
      .replace(/-+$/, "");
    return `${prefix}-${ctx.names.hex(10)}.elb.${region}.amazonaws.com`;
  }
  const uid = (service.metadata.uid ?? ctx.names.hex(32)).replaceAll("-", "").slice(0, 32);
  const digits = String(1_000_000_000 + ctx.names.int(999_999_999));
  return `a${uid}-${digits}.${region}.elb.amazonaws.com`;
}
