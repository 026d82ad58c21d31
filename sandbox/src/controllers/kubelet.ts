/**
 * The kubelets of all nodes: for every pod bound to a Ready node, run its PodSim (volumes, pulls, init
 * containers, probes, restarts), write the status it renders, and wake up when it next changes on its
 * own. A pod being deleted is stopped and removed after its grace period. A NotReady node's kubelet
 * does nothing (its pods are marked not ready by the node lifecycle controller).
 */

import { parseImageName, pullImage } from "../runtime/image-pull.js";
import type { PodProcesses } from "../runtime/index.js";
import type { KubeObject, WatchEvent } from "../types.js";
import { internalIP } from "./nodes.js";
import {
  attemptOf,
  completionFor,
  PULL_MS,
  type RealPullState,
  SandboxAnnotations,
  type SimEnv,
} from "./pod-runs.js";
import { PodSim } from "./pod-sim.js";
import { isNodeReady, isPodTerminal } from "./predicates.js";
import {
  type ControllerContext,
  controllerOf,
  deleteQuietly,
  keyOf,
  parseTime,
  sameJson,
  splitKey,
  WorkQueue,
} from "./runtime.js";
import { checkPodVolumes } from "./volume-attach.js";

interface Runtime {
  uid: string;
  sim: PodSim;
  podIP?: string;
  terminatingSince?: number;
  /** The node was NotReady when last looked at: readiness starts over when it is back. */
  nodeWasDown?: boolean;
  wake?: { at: number; cancel: () => void };
  images: string;
}

const MANAGED_CONDITIONS = new Set([
  "PodReadyToStartContainers",
  "Initialized",
  "Ready",
  "ContainersReady",
  "PodScheduled",
]);

function failingContainers(pod: KubeObject, annotation: string): Set<string> {
  const value = pod.metadata.annotations?.[annotation] ?? "";
  return new Set(
    value
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== ""),
  );
}

function imagesOf(pod: KubeObject): string {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]
    .map((c) => `${c.name}=${c.image}`)
    .join(",");
}

/**
 * `processes`: the sandbox runtime, which runs some containers (registry images) as real processes.
 * Hooks into it are marked "runtime hook"; without it every container is simulated.
 */
export function startKubelet(ctx: ControllerContext, processes?: PodProcesses): void {
  const { store, clock } = ctx;
  const runtimes = new Map<string, Runtime>();
  const imagesOnNode = new Map<string, Set<string>>();
  const usedIPs = new Set<string>();
  let ipsLoaded = false;
  /** Pods waiting for a volume (unbound claim, attached elsewhere): looked at again when claims or pods change. */
  const waitingForVolumes = new Set<string>();

  const queue = new WorkQueue(ctx, "kubelet", sync);

  function allocateIP(pod: KubeObject, node: KubeObject): string | undefined {
    const hostIP = internalIP(node);
    if (pod.spec?.hostNetwork) return hostIP;
    if (!ipsLoaded) {
      ipsLoaded = true;
      for (const other of store.list("Pod")) if (other.status?.podIP) usedIPs.add(other.status.podIP);
      for (const other of store.list("Node")) {
        const ip = internalIP(other);
        if (ip) usedIPs.add(ip);
      }
    }
    // The VPC CNI hands out secondary IPs of the node's subnet (the zone's /19).
    const third = Number(hostIP?.split(".")[2] ?? 0);
    const base = third - (third % 32);
    for (;;) {
      const ip = `10.0.${base + ctx.names.int(32)}.${1 + ctx.names.int(254)}`;
      if (!usedIPs.has(ip)) {
        usedIPs.add(ip);
        return ip;
      }
    }
  }

  function jobAnnotations(pod: KubeObject): Record<string, string> | undefined {
    const owner = controllerOf(pod);
    if (owner?.kind !== "Job") return undefined;
    return store.get("Job", pod.metadata.namespace, owner.name)?.metadata.annotations ?? {};
  }

  function runtimeFor(pod: KubeObject): Runtime {
    const uid = pod.metadata.uid ?? keyOf(pod);
    const existing = runtimes.get(keyOf(pod));
    if (existing && existing.uid === uid) return existing;
    existing?.wake?.cancel();
    // runtime hook: a container that runs for real ends when its process does, not after a set time.
    const completion = processes?.runsForReal(pod) ? undefined : completionFor(pod, jobAnnotations(pod));
    const sim = pod.status?.startTime
      ? PodSim.fromStatus(pod, completion, attemptOf(pod), clock.now())
      : new PodSim(pod, clock.now(), completion, attemptOf(pod));
    const runtime: Runtime = { uid, sim, podIP: pod.status?.podIP, images: imagesOf(pod) };
    sim.podIP = runtime.podIP;
    runtimes.set(keyOf(pod), runtime);
    return runtime;
  }

  function forget(key: string): void {
    processes?.remove(key); // runtime hook: the pod is gone, so are its processes
    const runtime = runtimes.get(key);
    runtime?.wake?.cancel();
    if (runtime?.podIP) usedIPs.delete(runtime.podIP);
    runtimes.delete(key);
    waitingForVolumes.delete(key);
    for (const id of realPulls.keys()) if (id.startsWith(`${key}/`)) realPulls.delete(id);
  }

  function wakeAt(key: string, runtime: Runtime, at: number | undefined): void {
    if (runtime.wake && runtime.wake.at === at) return;
    runtime.wake?.cancel();
    runtime.wake = undefined;
    if (at === undefined) return;
    const cancel = clock.after(Math.max(0, at - clock.now()), () => {
      if (runtime.wake?.cancel === cancel) runtime.wake = undefined;
      queue.add(key);
    });
    runtime.wake = { at, cancel };
  }

  /** Real pulls by pod key and attempt; their outcome wakes the pod's kubelet sync. */
  const realPulls = new Map<string, RealPullState>();

  /**
   * runtime hook: an image of a registry on 127.0.0.1:PORT (what the sandbox's load balancers publish) is
   * pulled for real, with the node's containerd certs.d and the pod's imagePullSecrets.
   */
  function realPull(key: string, pod: KubeObject, nodeName: string, image: string, attempt: string) {
    if (!processes) return undefined;
    const host = parseImageName(image)?.hostPort.replace(/:\d+$/, "");
    if (host !== "127.0.0.1" && host !== "localhost") return undefined;
    const id = `${key}/${attempt}`;
    const known = realPulls.get(id);
    if (known) return known;
    realPulls.set(id, { done: false });
    const dockerConfigs = (pod.spec?.imagePullSecrets ?? []).flatMap((ref: { name?: string }) => {
      const secret = store.get("Secret", pod.metadata.namespace, String(ref.name ?? ""));
      const data = secret?.data?.[".dockerconfigjson"];
      return typeof data === "string" ? [Buffer.from(data, "base64").toString("utf8")] : [];
    });
    void pullImage({
      image,
      certsDir: processes.nodePath(nodeName, "/etc/containerd/certs.d"),
      dockerConfigs,
    }).then((result) => {
      if (!realPulls.has(id)) return; // the pod is gone
      realPulls.set(id, result.ok ? { done: true } : { done: true, failure: result.reason });
      queue.add(key);
    });
    return { done: false } as const;
  }

  function envFor(pod: KubeObject, nodeName: string): SimEnv {
    const readiness = failingContainers(pod, SandboxAnnotations.failingReadiness);
    const liveness = failingContainers(pod, SandboxAnnotations.failingLiveness);
    const startup = failingContainers(pod, SandboxAnnotations.failingStartup);
    const source = { component: "kubelet", host: nodeName };
    return {
      now: clock.now(),
      failing: (container, probe) =>
        (probe === "readiness" ? readiness : probe === "liveness" ? liveness : startup).has(container) ||
        // runtime hook: a container with a real process answers its tcpSocket/httpGet probes itself.
        processes?.probeFailing(pod, container, probe) === true,
      realPull: (image, attempt) => realPull(keyOf(pod), pod, nodeName, image, attempt),
      pullTime(image, policy) {
        const present = imagesOnNode.get(nodeName) ?? new Set<string>();
        imagesOnNode.set(nodeName, present);
        if (!present.has(image)) {
          present.add(image);
          return PULL_MS;
        }
        return policy === "Always" ? 500 : 0;
      },
      event(type, reason, message, fieldPath) {
        if (type === "Normal") ctx.events.normal(pod, reason, message, source, fieldPath);
        else ctx.events.warning(pod, reason, message, source, fieldPath);
      },
    };
  }

  function writeStatus(pod: KubeObject, status: KubeObject["status"]): void {
    const others = (pod.status?.conditions ?? []).filter(
      (c: { type: string }) => !MANAGED_CONDITIONS.has(c.type),
    );
    const next = { ...pod.status, ...status, conditions: [...status.conditions, ...others] };
    if (sameJson(next, pod.status)) return;
    store.updateStatus({ ...pod, status: next });
  }

  function terminate(key: string, pod: KubeObject, runtime: Runtime, nodeName: string): void {
    const now = clock.now();
    if (runtime.terminatingSince === undefined) {
      runtime.terminatingSince = now;
      const env = envFor(pod, nodeName);
      for (const container of pod.status?.containerStatuses ?? []) {
        if (container.state?.running) {
          env.event(
            "Normal",
            "Killing",
            `Stopping container ${container.name}`,
            `spec.containers{${container.name}}`,
          );
        }
      }
    }
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const running = runtime.sim.hasRunningContainers && !isPodTerminal(pod);
    // The API server sets deletionTimestamp to the request time plus the grace period: use it, so a
    // restarted sandbox does not start the grace period over.
    const planned = parseTime(pod.metadata.deletionTimestamp);
    const graceEnds =
      planned !== undefined && planned >= runtime.terminatingSince - 1000
        ? planned
        : runtime.terminatingSince + grace * 1000;
    const removeAt = running
      ? Math.min(graceEnds, runtime.terminatingSince + grace * 1000)
      : runtime.terminatingSince;
    if (now >= removeAt) {
      forget(key);
      deleteQuietly(ctx, "Pod", pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0 });
      return;
    }
    wakeAt(key, runtime, removeAt);
  }

  function sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const pod = store.get("Pod", namespace, name);
    if (pod === undefined) {
      forget(key);
      return;
    }
    const nodeName: string | undefined = pod.spec?.nodeName;
    if (!nodeName) return;
    const node = store.get("Node", undefined, nodeName);
    if (node === undefined) return; // the pod garbage collector removes pods of deleted nodes
    const runtime = runtimeFor(pod);
    if (!isNodeReady(node)) {
      // The kubelet is down: nothing moves on this node until it is back.
      wakeAt(key, runtime, undefined);
      runtime.nodeWasDown = true;
      return;
    }
    if (runtime.nodeWasDown) {
      runtime.nodeWasDown = false;
      runtime.sim.nodeRecovered(clock.now());
    }
    if (pod.metadata.deletionTimestamp) {
      processes?.terminate(pod); // runtime hook: SIGTERM now, SIGKILL after the grace period
      terminate(key, pod, runtime, nodeName);
      return;
    }
    if (isPodTerminal(pod) && runtime.sim.phase() === pod.status?.phase) return;

    const env = envFor(pod, nodeName);
    const images = imagesOf(pod);
    if (images !== runtime.images) {
      runtime.images = images;
      runtime.sim.updateSpec(pod, env);
    }
    if (!runtime.sim.volumesReady) {
      const check = checkPodVolumes(
        ctx,
        pod,
        (other) => runtimes.get(keyOf(other))?.sim.volumesReady === true,
      );
      if (check.ok) {
        waitingForVolumes.delete(key);
        runtime.sim.volumesAttached(env.now);
        runtime.podIP ??= allocateIP(pod, node);
        runtime.sim.podIP = runtime.podIP;
      } else {
        waitingForVolumes.add(key);
        check.report(pod);
      }
    }
    // runtime hook: a real process that exited terminates its container (restarted per restartPolicy).
    for (const exit of processes?.takeExits(pod) ?? [])
      runtime.sim.containerExited(exit.container, exit.containerID, exit.exitCode, env);
    runtime.sim.step(env);
    const status = runtime.sim.status(pod.status, {
      hostIP: internalIP(node) ?? "",
      podIP: runtime.podIP,
      qosClass: pod.status?.qosClass,
    });
    writeStatus(pod, status);
    // runtime hook: start the processes of containers now running, stop those of containers that stopped.
    processes?.sync(pod, status, env.event);
    if (status.phase === "Succeeded" || status.phase === "Failed") retryVolumeWaiters();
    wakeAt(key, runtime, runtime.sim.nextWake(env));
  }

  function retryVolumeWaiters(): void {
    for (const key of waitingForVolumes) queue.add(key);
  }

  const onPod = (event: WatchEvent) => {
    const key = keyOf(event.object);
    if (event.type === "DELETED") {
      forget(key);
      retryVolumeWaiters();
      return;
    }
    if (event.object.spec?.nodeName) queue.add(key);
  };
  const onNode = (event: WatchEvent) => {
    const nodeName = event.object.metadata.name;
    if (event.type === "DELETED") imagesOnNode.delete(nodeName);
    for (const pod of store.list("Pod", { fieldSelector: `spec.nodeName=${nodeName}` }))
      queue.add(keyOf(pod));
  };
  ctx.cleanups.push(
    // runtime hook: a probe result changed or a process exited.
    processes?.onChange((key) => queue.add(key)) ?? (() => {}),
    store.subscribe("Pod", onPod),
    store.subscribe("Node", onNode),
    store.subscribe("PersistentVolumeClaim", retryVolumeWaiters),
    store.subscribe("PersistentVolume", retryVolumeWaiters),
    () => {
      for (const runtime of runtimes.values()) runtime.wake?.cancel();
      runtimes.clear();
    },
  );
  for (const pod of store.list("Pod")) if (pod.spec?.nodeName) queue.add(keyOf(pod));
}
