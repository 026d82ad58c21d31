/**
 * Where an object lives in the API: apiVersion and kind to the resource's URL path. The built-in kinds
 * clouddrove uses are known (their resource names and scopes are fixed by Kubernetes); any other kind
 * (a CRD such as VolumeSnapshot) is looked up once in the group-version's discovery document. A kind
 * the server does not serve is `undefined`, and only a 404 from discovery says so.
 */
import type { KubeHttp } from "./kube-http.js";

export interface Resource {
  /** "" for the core group. */
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

const CORE: Array<[kind: string, plural: string, namespaced: boolean]> = [
  ["Namespace", "namespaces", false],
  ["Node", "nodes", false],
  ["PersistentVolume", "persistentvolumes", false],
  ["Pod", "pods", true],
  ["Service", "services", true],
  ["Endpoints", "endpoints", true],
  ["ConfigMap", "configmaps", true],
  ["Secret", "secrets", true],
  ["ServiceAccount", "serviceaccounts", true],
  ["PersistentVolumeClaim", "persistentvolumeclaims", true],
  ["Event", "events", true],
];
const GROUPED: Array<[apiVersion: string, kind: string, plural: string, namespaced: boolean]> = [
  ["apps/v1", "Deployment", "deployments", true],
  ["apps/v1", "ReplicaSet", "replicasets", true],
  ["apps/v1", "DaemonSet", "daemonsets", true],
  ["apps/v1", "StatefulSet", "statefulsets", true],
  ["batch/v1", "Job", "jobs", true],
  ["batch/v1", "CronJob", "cronjobs", true],
  ["policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true],
  ["networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true],
  ["coordination.k8s.io/v1", "Lease", "leases", true],
  ["storage.k8s.io/v1", "StorageClass", "storageclasses", false],
  ["storage.k8s.io/v1", "CSIDriver", "csidrivers", false],
  ["events.k8s.io/v1", "Event", "events", true],
  ["discovery.k8s.io/v1", "EndpointSlice", "endpointslices", true],
];

export const BUILT_IN: ReadonlyMap<string, Resource> = new Map<string, Resource>([
  ...CORE.map(([kind, plural, namespaced]): [string, Resource] => [
    `v1/${kind}`,
    { group: "", version: "v1", plural, namespaced },
  ]),
  ...GROUPED.map(([apiVersion, kind, plural, namespaced]): [string, Resource] => {
    const [group = "", version = ""] = apiVersion.split("/");
    return [`${apiVersion}/${kind}`, { group, version, plural, namespaced }];
  }),
]);

/** The discovery document's path for an apiVersion: /api/v1 or /apis/GROUP/VERSION. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

export function resourcePath(
  resource: Resource,
  where: { namespace?: string; name?: string; subresource?: string } = {},
): string {
  const base =
    resource.group === "" ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  const scope =
    resource.namespaced && where.namespace ? `/namespaces/${encodeURIComponent(where.namespace)}` : "";
  const name = where.name === undefined ? "" : `/${encodeURIComponent(where.name)}`;
  const sub = where.subresource === undefined ? "" : `/${where.subresource}`;
  return `${base}${scope}/${resource.plural}${name}${sub}`;
}

export class ResourcePaths {
  private readonly discovered = new Map<string, Promise<Map<string, Resource> | undefined>>();

  constructor(private readonly http: KubeHttp) {}

  /** The resource of a kind, or undefined when the server says (404) it does not serve its group-version or kind. */
  async resource(apiVersion: string, kind: string): Promise<Resource | undefined> {
    const known = BUILT_IN.get(`${apiVersion}/${kind}`);
    if (known) return known;
    const kinds = await this.discover(apiVersion);
    return kinds?.get(kind);
  }

  private discover(apiVersion: string): Promise<Map<string, Resource> | undefined> {
    let found = this.discovered.get(apiVersion);
    if (!found) {
      found = this.readDiscovery(apiVersion);
      // A failure is not remembered: the next call asks again.
      found.catch(() => this.discovered.delete(apiVersion));
      this.discovered.set(apiVersion, found);
    }
    return found;
  }

  private async readDiscovery(apiVersion: string): Promise<Map<string, Resource> | undefined> {
    const answer = await this.http.request({ method: "GET", path: groupVersionPath(apiVersion) });
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) {
      throw Object.assign(new Error(`discovery of ${apiVersion} answered HTTP ${answer.status}`), {
        statusCode: answer.status,
        headers: answer.headers,
        body: answer.text,
      });
    }
    const [group = "", version = apiVersion] = apiVersion.includes("/")
      ? apiVersion.split("/")
      : ["", apiVersion];
    const list = JSON.parse(answer.text) as {
      resources?: Array<{ name: string; kind: string; namespaced: boolean }>;
    };
    const kinds = new Map<string, Resource>();
    for (const entry of list.resources ?? []) {
      // Subresources (pods/eviction) share their parent's kind; the resource itself has no slash.
      if (entry.name.includes("/")) continue;
      kinds.set(entry.kind, { group, version, plural: entry.name, namespaced: entry.namespaced });
    }
    return kinds;
  }
}
