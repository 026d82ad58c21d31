/**
 * Writing a Lease with optimistic concurrency: create (POST) and replace (PUT with the resourceVersion it
 * was read at) answer `undefined` instead of failing when another writer got there first (409), so that
 * of two clouddrove runs taking the lock at once exactly one wins; delete carries the resourceVersion as a
 * precondition, so a run never frees a lock someone else has taken over since. Other failures go through
 * the connection's request path (retried when transient, translated when final).
 */
import type { V1Lease, V1Namespace } from "@kubernetes/client-node";
import { OperationError } from "../errors.js";
import { FIELD_MANAGER } from "./kube.js";
import type { KubeFailure } from "./kube-errors.js";
import { Kinds } from "./kube-kinds.js";
import { resourcePath } from "./kube-paths.js";
import type { Kube } from "./kube-types.js";

const lost = () => undefined;

async function leasePath(kube: Kube, namespace: string, name?: string): Promise<string> {
  return resourcePath(await kube.resource(Kinds.Lease), { namespace, name });
}

/**
 * What creating a Lease answered: the Lease, taken by another writer first, no such namespace, or the
 * namespace is being deleted (a refused first deploy removing the namespace it made; it is gone soon).
 */
export type CreateOutcome = V1Lease | "taken" | "no-namespace" | "namespace-terminating";

/** A 403 that is not about credentials: the server refuses new objects in a namespace being deleted. */
class NamespaceTerminating extends OperationError {}
const terminating = (failure: KubeFailure) =>
  failure.status === 403 && failure.reason === "NamespaceTerminating"
    ? new NamespaceTerminating(failure.message)
    : undefined;

/** Creates the Lease; "taken" when one of that name exists already (someone else created it first). */
export async function createLease(kube: Kube, lease: V1Lease): Promise<CreateOutcome> {
  const namespace = lease.metadata?.namespace ?? "";
  try {
    return await kube.call<CreateOutcome>(
      `creating Lease ${lease.metadata?.name}`,
      { method: "POST", path: await leasePath(kube, namespace), body: lease },
      { answers: { 409: () => "taken", 404: () => "no-namespace" }, refine: terminating },
    );
  } catch (error) {
    if (error instanceof NamespaceTerminating) return "namespace-terminating";
    throw error;
  }
}

/**
 * Creates a namespace (a first deploy's, to hold its lock): "created", or "exists" when it is there
 * already (another run made it first, or it is still being deleted).
 */
export async function createNamespace(kube: Kube, namespace: V1Namespace): Promise<"created" | "exists"> {
  const answer = await kube.call<V1Namespace | "exists">(
    `creating Namespace ${namespace.metadata?.name}`,
    {
      method: "POST",
      path: `${resourcePath(await kube.resource(Kinds.Namespace), {})}?fieldManager=${FIELD_MANAGER}`,
      body: namespace,
    },
    { answers: { 409: () => "exists" } },
  );
  return answer === "exists" ? "exists" : "created";
}

/**
 * Replaces the Lease, which must carry the resourceVersion it was read at; undefined when it changed
 * since (409 Conflict) or is gone (404): either way another writer moved first.
 */
export async function replaceLease(kube: Kube, lease: V1Lease): Promise<V1Lease | undefined> {
  const namespace = lease.metadata?.namespace ?? "";
  const name = lease.metadata?.name ?? "";
  return kube.call<V1Lease | undefined>(
    `updating Lease ${name}`,
    { method: "PUT", path: await leasePath(kube, namespace, name), body: lease },
    { answers: { 409: lost, 404: lost } },
  );
}

/** Deletes the Lease if it is still at `resourceVersion`; false when it changed or was gone. */
export async function deleteLease(
  kube: Kube,
  namespace: string,
  name: string,
  resourceVersion: string,
): Promise<boolean> {
  const answer = await kube.call<unknown>(
    `deleting Lease ${name}`,
    {
      method: "DELETE",
      path: await leasePath(kube, namespace, name),
      body: { preconditions: { resourceVersion } },
    },
    { answers: { 409: () => false, 404: () => false } },
  );
  return answer !== false;
}
