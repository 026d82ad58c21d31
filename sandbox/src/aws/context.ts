/** What the sandbox's AWS services answer from: the account's own records and the simulated cluster. */
import type { ObjectStore, SandboxClock } from "../types.js";
import type { AwsAccountState, ClusterShape } from "./state.js";

export interface AwsContext {
  state: AwsAccountState;
  store: ObjectStore;
  clock: SandboxClock;
  /** The cluster as it is now (its zones, version and name), read from the sandbox's seed record. */
  cluster(): ClusterShape;
  /** The Kubernetes API server's URL and CA certificate (PEM), as DescribeCluster reports them. */
  apiServer: { url: string; certificate: string };
}

/** A REST-JSON request (EKS, EFS): its method, URL and JSON body. */
export interface RestRequest {
  method: string;
  url: URL;
  /** The body as JSON ({} when empty). */
  input: Record<string, unknown>;
}
