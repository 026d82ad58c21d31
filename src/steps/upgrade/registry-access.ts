/**
 * Talking to the registry replicas themselves during an upgrade, each through a port-forward (the route
 * that works whatever the NetworkPolicy and the load balancer allow): push a small image before the
 * upgrade, pull it back after (through every ready replica), and read the repositories and tags that decide
 * whether a rollback may happen.
 */
import { randomBytes } from "node:crypto";
import type { V1Pod } from "@kubernetes/client-node";
import { Kinds } from "../../adapters/kube-kinds.js";
import { openPortForward } from "../../adapters/port-forward.js";
import {
  checkAuth,
  deleteManifest,
  getBlob,
  getManifest,
  listRepositories,
  listTags,
  ping,
  pushRandomImage,
  RegistryApiError,
  type RegistryEndpoint,
} from "../../adapters/registry.js";
import { isPodReady } from "../../core/health/pod-ready.js";
import { names } from "../../core/render/names.js";
import { checkTag, checkTagsToRemove } from "../../core/upgrade/check-tags.js";
import { CHECK_REPOSITORY, fingerprintOf } from "../../core/upgrade/rollback-rule.js";
import type { RegistryFingerprint } from "../../core/upgrade/state.js";
import { OperationError } from "../../errors.js";
import { readClusterCredentials } from "../deploy/credentials.js";
import { registryTrust } from "../health/tls.js";
import { replicaEndpoint } from "../replica-endpoint.js";
import type { UpgradeContext } from "./context.js";

/** The name of a pod read from the cluster (the server always sets it). */
const podName = (pod: V1Pod) => pod.metadata?.name ?? "";

export async function readyRegistryPods(ctx: UpgradeContext): Promise<V1Pod[]> {
  const pods = await ctx.kube.list(Kinds.Pod, {
    namespace: ctx.namespace,
    labelSelector: names.registryPodSelector,
  });
  ctx.stats.lists++;
  return pods.filter(isPodReady);
}

async function credentials(ctx: UpgradeContext): Promise<{ username: string; password: string }> {
  const stored = await readClusterCredentials(ctx.kube, ctx.namespace);
  ctx.stats.reads += 3;
  if (!stored.username || !stored.password) {
    throw new OperationError(
      "The registry's credentials are not in the cluster (Secret registry-clouddrove-pull).",
      {
        hint: "Run `clouddrove deploy` to restore them, or pass --no-registry-check to upgrade without the registry checks.",
      },
    );
  }
  return { username: stored.username, password: stored.password };
}

/**
 * Runs `work` against one pod's registry port through a port-forward. A forward that carries no answer
 * (the API server's stream stalled) is opened afresh once: every call made here is idempotent (blobs are
 * content-addressed, a manifest PUT replaces the same tag, reads are reads).
 */
export async function throughPod<T>(
  ctx: UpgradeContext,
  pod: string,
  work: (endpoint: RegistryEndpoint) => Promise<T>,
  login: { username: string; password: string },
): Promise<T> {
  // HTTPS trusting the private CA when the replicas serve TLS (read each time: an upgrade may span a
  // deploy that changed it).
  const ca = await registryTrust(ctx.kube, ctx.namespace);
  ctx.stats.reads += 2;
  for (let attempt = 1; ; attempt++) {
    const forward = await openPortForward(ctx.kube, ctx.namespace, pod, names.ports.registry);
    try {
      return await work({
        ...replicaEndpoint(forward.localPort, ctx.namespace, ca),
        timeoutMs: 15_000,
        ...login,
      });
    } catch (error) {
      if (attempt >= 2 || !(error instanceof RegistryApiError) || error.code !== "UNREACHABLE") throw error;
      ctx.warnings.push(
        `a port-forward to ${pod} gave no answer; retried through a new one (${error.message})`,
      );
    } finally {
      await forward.close();
    }
  }
}

/** Pushes a one-layer image to clouddrove/upgrade-check through a ready replica. */
export async function pushCheckImage(
  ctx: UpgradeContext,
): Promise<NonNullable<UpgradeContext["state"]["checkImage"]>> {
  const [pod] = await readyRegistryPods(ctx);
  if (!pod) throw new OperationError("No registry replica is ready to take the check image.");
  const login = await credentials(ctx);
  // Unique per run: two upgrades (or one and a leftover) never overwrite each other's check image.
  const tag = checkTag(new Date(), randomBytes(3).toString("hex"));
  const pushed = await throughPod(
    ctx,
    podName(pod),
    (endpoint) => pushRandomImage(endpoint, CHECK_REPOSITORY, tag, { layers: 1, layerSize: 2048 }),
    login,
  );
  return { repository: CHECK_REPOSITORY, tag, ...pushed };
}

export interface ReplicaCheck {
  pod: string;
  root: number;
  authenticated: number;
  pulled: boolean;
}

/** Every ready replica: GET / is 200, /v2/ with the credentials is 200, the check image comes back intact. */
export async function checkEveryReplica(ctx: UpgradeContext): Promise<ReplicaCheck[]> {
  const pods = await readyRegistryPods(ctx);
  const login = await credentials(ctx);
  const image = ctx.state.checkImage;
  const results: ReplicaCheck[] = [];
  for (const pod of pods) {
    results.push(
      await throughPod(
        ctx,
        podName(pod),
        async (endpoint) => {
          const root = await ping(endpoint);
          const authenticated = await checkAuth(endpoint);
          let pulled = false;
          if (image && authenticated === 200) {
            const manifest = await getManifest(endpoint, image.repository, image.tag);
            for (const digest of image.blobDigests) await getBlob(endpoint, image.repository, digest);
            pulled = manifest.digest === image.manifestDigest;
          }
          return { pod: podName(pod), root, authenticated, pulled };
        },
        login,
      ),
    );
  }
  return results;
}

/** The registry's repositories and tags, fingerprinted; null (with why) when they cannot be read. */
export async function registryFingerprint(
  ctx: UpgradeContext,
): Promise<{ fingerprint: RegistryFingerprint | null; note?: string }> {
  if (!ctx.state.registryCheck) {
    return { fingerprint: null, note: "the registry checks were turned off (--no-registry-check)" };
  }
  try {
    const [pod] = await readyRegistryPods(ctx);
    if (!pod) return { fingerprint: null, note: "no registry replica was ready" };
    const login = await credentials(ctx);
    const catalog = await throughPod(
      ctx,
      podName(pod),
      async (endpoint) => {
        const entries: Array<{ repository: string; tags: string[] }> = [];
        for (const repository of await listRepositories(endpoint)) {
          entries.push({ repository, tags: await listTags(endpoint, repository).catch(() => []) });
        }
        return entries;
      },
      login,
    );
    return { fingerprint: fingerprintOf(catalog) };
  } catch (error) {
    return { fingerprint: null, note: (error as Error).message };
  }
}

/**
 * Deletes the check images of earlier runs but the newest `keep` (by the time in their tags), through a
 * ready replica; the names of the tags removed.
 */
export async function pruneCheckTags(ctx: UpgradeContext, keep: number): Promise<string[]> {
  const [pod] = await readyRegistryPods(ctx);
  if (!pod) throw new OperationError("No registry replica is ready to remove old check images through.");
  const login = await credentials(ctx);
  return throughPod(
    ctx,
    podName(pod),
    async (endpoint) => {
      const tags = await listTags(endpoint, CHECK_REPOSITORY);
      const removed: string[] = [];
      for (const tag of checkTagsToRemove(tags, keep)) {
        const manifest = await getManifest(endpoint, CHECK_REPOSITORY, tag);
        await deleteManifest(endpoint, CHECK_REPOSITORY, manifest.digest);
        removed.push(tag);
      }
      return removed;
    },
    login,
  );
}
