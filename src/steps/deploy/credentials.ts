/**
 * Reading the registry's Secrets back from the cluster before anything is rendered, so that a re-deploy
 * reuses the password, the htpasswd line and http.secret instead of rotating them.
 */
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { readStoredCredentials, type StoredCredentials } from "../../core/deploy/credentials.js";
import { names } from "../../core/render/names.js";

export async function readClusterCredentials(kube: Kube, namespace: string): Promise<StoredCredentials> {
  const [htpasswd, http, pull] = await Promise.all([
    kube.get(named(Kinds.Secret, names.htpasswdSecret, namespace)),
    kube.get(named(Kinds.Secret, names.httpSecret, namespace)),
    kube.get(named(Kinds.Secret, names.pullSecret, namespace)),
  ]);
  return readStoredCredentials({ htpasswd, http, pull });
}
