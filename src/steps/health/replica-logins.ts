/**
 * Does every ready replica accept the credentials clients pull with? Through a port-forward to each
 * ready registry pod (the route that works whatever the NetworkPolicy and the load balancer allow),
 * `/v2/` with the user and password of the pull Secret. A replica that answers everything else but
 * refuses these is as good as down for every client, so `status` counts it as a problem.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { openPortForward } from "../../adapters/port-forward.js";
import { checkAuth } from "../../adapters/registry.js";
import { readStoredCredentials } from "../../core/deploy/credentials.js";
import { isPodReady } from "../../core/health/pod-ready.js";
import type { ReplicaLogins } from "../../core/health/snapshot.js";
import { names } from "../../core/render/names.js";
import { replicaEndpoint } from "../replica-endpoint.js";
import { registryTrust } from "./tls.js";

export async function checkReplicaLogins(
  kube: Kube,
  namespace: string,
  pods: V1Pod[],
): Promise<ReplicaLogins> {
  const pull = await kube.get(named(Kinds.Secret, names.pullSecret, namespace));
  const stored = readStoredCredentials({ htpasswd: undefined, http: undefined, pull });
  if (!stored.username || !stored.password) {
    return { missing: `Secret ${namespace}/${names.pullSecret} holds no credentials`, replicas: [] };
  }
  const login = { username: stored.username, password: stored.password };
  // HTTPS trusting the registry's private CA when the replicas serve TLS, as clients do.
  const ca = await registryTrust(kube, namespace);
  const replicas = await Promise.all(
    pods.filter(isPodReady).map(async (pod) => {
      const name = pod.metadata?.name ?? "";
      try {
        const forward = await openPortForward(kube, namespace, name, names.ports.registry);
        try {
          const endpoint = {
            ...replicaEndpoint(forward.localPort, namespace, ca),
            timeoutMs: 15_000,
            ...login,
          };
          return { pod: name, status: await checkAuth(endpoint) };
        } finally {
          await forward.close();
        }
      } catch (error) {
        return { pod: name, status: null, error: (error as Error).message };
      }
    }),
  );
  return { username: stored.username, replicas };
}
