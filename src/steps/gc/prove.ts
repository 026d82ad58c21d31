/**
 * Proof that the registry is read-only and still serves, asked of every ready replica through its own
 * port-forward (the route that works whatever the NetworkPolicies and the load balancer allow): a pull
 * (GET of a manifest the registry holds) answers 200, and the start of a push (POST
 * /v2/<repo>/blobs/uploads/) gets the registry's read-only refusal. Distribution (2.8.2 and 3.x) does not
 * route write methods while `storage.maintenance.readonly` is on, so the refusal is 405 Method Not
 * Allowed with `Allow: GET, HEAD`.
 */
import { Kinds } from "../../adapters/kube-kinds.js";
import { openPortForward } from "../../adapters/port-forward.js";
import {
  checkAuth,
  getManifest,
  listRepositories,
  listTags,
  RegistryApiError,
  type RegistryEndpoint,
  startUpload,
} from "../../adapters/registry.js";
import type { ReplicaProof } from "../../core/gc/report.js";
import { isPodReady } from "../../core/health/pod-ready.js";
import { names } from "../../core/render/names.js";
import { OperationError } from "../../errors.js";
import { readClusterCredentials } from "../deploy/credentials.js";
import { registryTrust } from "../health/tls.js";
import { replicaEndpoint } from "../replica-endpoint.js";
import type { GcContext } from "./context.js";

/** The read-only refusal of a write (Distribution routes only GET and HEAD). */
export const READ_ONLY_STATUS = 405;

/** The repository the push probe names; nothing is ever written to it. */
const PROBE_REPOSITORY = "clouddrove/gc-check";

async function readyPods(ctx: GcContext): Promise<string[]> {
  const pods = await ctx.kube.list(Kinds.Pod, {
    namespace: ctx.namespace,
    labelSelector: names.registryPodSelector,
  });
  return pods.filter(isPodReady).map((pod) => pod.metadata?.name as string);
}

/** A tag the registry holds (the first repository with one), to pull; undefined when it holds none. */
async function someImage(
  endpoint: RegistryEndpoint,
): Promise<{ repository: string; tag: string } | undefined> {
  for (const repository of await listRepositories(endpoint)) {
    const [tag] = await listTags(endpoint, repository).catch(() => [] as string[]);
    if (tag) return { repository, tag };
  }
  return undefined;
}

async function proveOne(endpoint: RegistryEndpoint, pod: string): Promise<ReplicaProof> {
  const image = await someImage(endpoint);
  let pull: ReplicaProof["pull"];
  if (image) {
    const manifest = await getManifest(endpoint, image.repository, image.tag);
    pull = { status: 200, what: `${image.repository}:${image.tag} ${manifest.digest}` };
  } else {
    pull = { status: await checkAuth(endpoint), what: "GET /v2/ (the registry holds no image)" };
  }
  try {
    await startUpload(endpoint, PROBE_REPOSITORY);
  } catch (error) {
    if (error instanceof RegistryApiError && error.status === READ_ONLY_STATUS) {
      return { pod, pull, push: { status: error.status, code: error.code } };
    }
    throw error;
  }
  throw new OperationError(`Replica ${pod} accepted the start of a push while it should be read-only.`, {
    hint: `Check storage.maintenance.readonly in ConfigMap ${names.configMap} and that the pod runs the current ReplicaSet; nothing was collected.`,
  });
}

/** Every ready replica pulls and refuses pushes; a replica that does not is an error (nothing is collected). */
export async function proveReadOnly(ctx: GcContext): Promise<ReplicaProof[]> {
  const stored = await readClusterCredentials(ctx.kube, ctx.namespace);
  const login =
    stored.username && stored.password ? { username: stored.username, password: stored.password } : {};
  const ca = await registryTrust(ctx.kube, ctx.namespace);
  const proofs: ReplicaProof[] = [];
  for (const pod of await readyPods(ctx)) {
    const forward = await openPortForward(ctx.kube, ctx.namespace, pod, names.ports.registry);
    try {
      proofs.push(
        await proveOne(
          { ...replicaEndpoint(forward.localPort, ctx.namespace, ca), timeoutMs: 15_000, ...login },
          pod,
        ),
      );
    } finally {
      await forward.close();
    }
  }
  if (proofs.length < 2) {
    throw new OperationError(`Only ${proofs.length} registry replica(s) are ready while read-only.`, {
      hint: "clouddrove status shows why; garbage collection needs at least two replicas serving pulls.",
    });
  }
  return proofs;
}
