/**
 * The state `deploy`'s steps share: what was resolved and rendered before the task list started, what
 * each step found or did, and the counts the report and the request benchmark need.
 */
import type { Kube } from "../../adapters/kube.js";
import type { Config } from "../../config/schema.js";
import type { ApplyAction } from "../../core/deploy/objects.js";
import type { PreflightResult } from "../../core/deploy/preflight.js";
import type { RegistryCredentials, ServedSecret } from "../../core/render/index.js";
import type { KubeObject } from "../../core/render/types.js";
import type { DnsRecord } from "../../core/tls/acm.js";
import type { PreparedTls } from "../../core/tls/prepare.js";

export interface DeployOptions {
  /** "server": every write is sent with dryRun=All; nothing is stored. */
  serverDryRun: boolean;
  diff: boolean;
  force: boolean;
  forceConflicts: boolean;
  smokeTest: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface AppliedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  action: ApplyAction;
}

export interface DeployContext {
  kube: Kube;
  config: Config;
  options: DeployOptions;
  credentials: RegistryCredentials;
  objects: KubeObject[];
  preflight?: PreflightResult;
  /** The live objects before this run, by refKey. */
  live: Map<string, KubeObject>;
  applied: AppliedObject[];
  diffs: string[];
  /** host:port the registry answers on, once the load balancer has one. */
  address?: string;
  smoke?: { root: number; authenticated: number };
  /**
   * The first deploy writes the pull Secret only once the load balancer's address is known (one write per
   * object); until then it is pending, and a failed deploy writes it without that address (see
   * writePendingPullSecret) so the password is never lost.
   */
  pullSecretPending: boolean;
  /** This run created the namespace (a first deploy, to hold its lock in): the report counts it created. */
  createdNamespace?: boolean;
  /**
   * The CA and server certificate (tls.mode private-ca). Without a load balancer address at render time
   * (a first deploy) the certificate names the others only; the certificate step issues it again once the
   * address is known.
   */
  tls?: { prepared: PreparedTls };
  /** tls.mode secret: the Secret the registry serves (undefined until cert-manager has issued it). */
  served?: ServedSecret;
  /** tls.mode acm: the record tls.hostname -> load balancer, created in Route 53 or to be created by hand. */
  dnsRecord?: { record: DnsRecord; created: boolean; zone?: string; changeId?: string };
  /** The command's environment, for the AWS clients of tls.mode acm. */
  env?: NodeJS.ProcessEnv;
  /**
   * The first deploy applies the server certificate's Secret and the Deployment only once the load
   * balancer's address is known and the certificate names it (steps/deploy/tls.ts), so that the replicas
   * roll out once, with the final certificate, instead of twice.
   */
  certificatePending?: boolean;
  warnings: string[];
  stats: { writes: number; reads: number; lists: number; watches: number };
}
