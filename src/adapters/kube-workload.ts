/**
 * Two Kubernetes calls the generic adapter (kube.ts) does not make: scaling a Deployment, and reading the
 * end of a pod's log. Scaling is a JSON merge patch of spec.replicas, never a server-side apply: an
 * apply of a partial Deployment by the field manager that applied the whole one would remove every field
 * it left out. Both go through the connection's one request path (retries, error translation).
 */
import { CoreV1Api, KubernetesObjectApi, PatchStrategy, type V1Deployment } from "@kubernetes/client-node";
import { FIELD_MANAGER, type Kube } from "./kube.js";

/**
 * Sets a Deployment's replicas, and (in the same write) annotations: a string sets one, null removes it.
 */
export async function scaleDeployment(
  kube: Kube,
  namespace: string,
  name: string,
  replicas: number,
  annotations: Record<string, string | null> = {},
): Promise<void> {
  const api = kube.client(KubernetesObjectApi);
  // A merge patch: null removes an annotation, which V1ObjectMeta's type cannot say.
  const patch = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: { replicas },
  } as V1Deployment;
  await kube.request(`scaling deployment ${name} to ${replicas}`, () =>
    api.patch(patch, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch),
  );
}

/** The last `tailLines` lines of one container's log; "" when the pod (or its log) is gone. */
export async function podLogTail(
  kube: Kube,
  namespace: string,
  pod: string,
  container: string,
  tailLines: number,
): Promise<string> {
  const api = kube.client(CoreV1Api);
  // A pod already removed (TTL, history limits) or a container that never started has no log.
  const noLog = () => "";
  return kube.request(
    `reading the log of pod ${pod}`,
    () => api.readNamespacedPodLog({ name: pod, namespace, container, tailLines }),
    { answers: { 400: noLog, 404: noLog } },
  );
}
