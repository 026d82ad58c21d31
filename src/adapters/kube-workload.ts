/**
 * Two Kubernetes calls the generic adapter (kube.ts) does not make: scaling a Deployment, and reading the
 * end of a pod's log. Scaling is a JSON merge patch of spec.replicas, never a server-side apply: an
 * apply of a partial Deployment by the field manager that applied the whole one would remove every field
 * it left out.
 */
import { ApiException, CoreV1Api, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { CredentialsError, OperationError } from "../errors.js";
import { FIELD_MANAGER, isTransient, type Kube } from "./kube.js";

function explain(kube: Kube, error: unknown, action: string): Error {
  if (error instanceof ApiException && (error.code === 401 || error.code === 403)) {
    return new CredentialsError(
      `The cluster refused the credentials of context ${kube.context} (${error.code}) while ${action}.`,
      {
        cause: error,
        hint: `Check that the identity of context ${kube.context} may ${action} (kubectl auth can-i).`,
      },
    );
  }
  if (error instanceof ApiException) {
    const body = typeof error.body === "string" ? error.body : JSON.stringify(error.body ?? "");
    let message = body;
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {}
    return new OperationError(`The Kubernetes API answered ${error.code} while ${action}: ${message}`, {
      cause: error,
      hint: "See the message above; run again with --verbose for details.",
    });
  }
  if (/fetch failed|ECONNREFUSED|ENOTFOUND/.test(String(error))) {
    return new CredentialsError(
      `The cluster of context ${kube.context} could not be reached while ${action}.`,
      {
        cause: error,
        hint: "Check that the cluster is reachable, and that --kubeconfig/--context name it.",
      },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

async function withRetries<T>(kube: Kube, action: string, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt < 4 && isTransient(error)) {
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)));
        continue;
      }
      throw explain(kube, error, action);
    }
  }
}

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
  const api = kube.config.makeApiClient(KubernetesObjectApi);
  const patch = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: { replicas },
  };
  await withRetries(kube, `scaling deployment ${name} to ${replicas}`, () =>
    api.patch(patch as never, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch),
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
  const api = kube.config.makeApiClient(CoreV1Api);
  try {
    return await withRetries(kube, `reading the log of pod ${pod}`, () =>
      api.readNamespacedPodLog({ name: pod, namespace, container, tailLines }),
    );
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    // A pod already removed (TTL, history limits) or a container that never started has no log.
    if (cause instanceof ApiException && (cause.code === 404 || cause.code === 400)) return "";
    throw error;
  }
}
