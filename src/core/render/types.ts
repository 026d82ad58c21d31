/** The shapes the renderer produces and consumes. */

export interface RegistryCredentials {
  username: string;
  /** Plain; goes only into the dockerconfigjson Secret. */
  password: string;
  /** The registry's http.secret, shared by all replicas. */
  httpSecret: string;
  /** One bcrypt htpasswd line "user:$2y$10$..." (computed by the caller with bcryptjs). */
  htpasswd: string;
  /**
   * Registry addresses (host:port) the pull Secret also names, besides the in-cluster service name: the
   * load balancer's, which nodes can resolve when they pull (cluster DNS names they cannot).
   */
  pullHosts?: string[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    /** Set on objects read back from a cluster: a live CronJob's uid names it as the owner of a Job. */
    uid?: string;
    ownerReferences?: OwnerReference[];
  };
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A plain JSON object, as parsed from a template. */
export type JsonObject = Record<string, unknown>;
