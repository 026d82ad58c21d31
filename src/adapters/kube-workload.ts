/**
 * Two Kubernetes calls the generic adapter (kube.ts) does not make: scaling a Deployment, and reading the
 * end of a pod's log. Scaling is a JSON merge patch of spec.replicas, never a server-side apply: an
 * apply of a partial Deployment by the field manager that applied the whole one would remove every field
 * it left out. Both go through the connection's one request path (retries, error translation).
 */
import { FIELD_MANAGER, type Kube } from "./kube.js";
import { Kinds } from "./kube-kinds.js";

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
  const path = await kube.listPath(Kinds.Deployment, namespace);
  // A merge patch: null removes an annotation.
  const patch = {
    metadata: Object.keys(annotations).length > 0 ? { annotations } : {},
    spec: { replicas },
  };
  await kube.call(`scaling deployment ${name} to ${replicas}`, {
    method: "PATCH",
    path: `${path}/${encodeURIComponent(name)}?fieldManager=${FIELD_MANAGER}`,
    contentType: "application/merge-patch+json",
    body: patch,
  });
}

/** The last `tailLines` lines of one container's log; "" when the pod (or its log) is gone. */
export async function podLogTail(
  kube: Kube,
  namespace: string,
  pod: string,
  container: string,
  tailLines: number,
): Promise<string> {
  // A pod already removed (TTL, history limits) or a container that never started has no log.
  const noLog = () => "";
  const query = new URLSearchParams({ container, tailLines: String(tailLines) });
  const path = `${await kube.listPath(Kinds.Pod, namespace)}/${encodeURIComponent(pod)}/log?${query}`;
  return kube.call<string>(
    `reading the log of pod ${pod}`,
    { method: "GET", path, accept: "text/plain" },
    {
      answers: { 400: noLog, 404: noLog },
    },
  );
}
