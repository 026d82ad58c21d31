/**
 * What `cluster create` checks before anything is created: the AWS credentials, the region's zones, the
 * Kubernetes version, whether the cluster already exists (then create reconciles instead), and eksctl
 * (installed, new enough). Runs before the task list, so its failures are plain exit 2 / 4.
 */
import {
  type AwsClients,
  type ClusterInfo,
  callerIdentity,
  describeCluster,
  eksVersions,
  listZones,
  offeredForNewClusters,
  subnetZones,
} from "../../adapters/aws.js";
import { type EksctlEnvironment, eksctlVersion } from "../../adapters/eksctl.js";
import type { ClusterValues } from "../../core/cluster/cluster-config.js";
import { checkKubernetesVersion, chooseZones, type ZoneInfo } from "../../core/cluster/preflight.js";
import { defaultVersionForNewClusters, type EksVersion } from "../../core/cluster/versions.js";
import { UsageError } from "../../errors.js";

export interface CreatePreflightInput {
  clients: AwsClients;
  /** Zones may be empty: the region's first three are used; no version: EKS's default for new clusters. */
  values: Omit<ClusterValues, "kubernetesVersion"> & { kubernetesVersion?: string };
  /** EKS's versions, when already asked (e.g. to offer them at a prompt). */
  versions?: EksVersion[];
  /** Zones already fetched (e.g. to offer them at a prompt). */
  offered?: ZoneInfo[];
  /** Undefined skips the eksctl check (dry runs never start it). */
  eksctl?: EksctlEnvironment;
}

export interface CreatePreflight {
  values: ClusterValues;
  identity: { account: string; arn: string };
  eksctlVersion?: string;
  /** What EKS said of its versions (undefined when it may not be asked). */
  versions?: EksVersion[];
  /** Where the version came from: asked for, EKS's default for new clusters, or the existing cluster's. */
  versionSource: "asked" | "eks-default" | "existing";
  /** The cluster as EKS describes it, when it already exists. */
  existing?: ClusterInfo;
}

/** The region's zones, as EC2 describes them (asked once: offered at the prompt, then to preflightCreate). */
export function offeredZones(clients: AwsClients): Promise<ZoneInfo[]> {
  return listZones(clients.ec2, clients.region);
}

/** The Kubernetes versions EKS knows, their support and its default (undefined when it does not say). */
export function offeredVersions(clients: AwsClients): Promise<EksVersion[] | undefined> {
  return eksVersions(clients.eks);
}

export async function preflightCreate(input: CreatePreflightInput): Promise<CreatePreflight> {
  // AWS first: a bad region or zone is reported before eksctl is even started.
  const identity = await callerIdentity(input.clients);
  const offered = input.offered ?? (await listZones(input.clients.ec2, input.values.region));
  const existing = await describeCluster(input.clients.eks, input.values.name);
  let requested = input.values.zones;
  if (existing && requested.length === 0) {
    // Reconciling: keep the zones the cluster was made with, not the region's first three.
    const zonesInUse = [
      ...new Set((await subnetZones(input.clients.ec2, existing.subnetIds)).values()),
    ].sort();
    if (zonesInUse.length >= 3) requested = zonesInUse.slice(0, 3);
  }
  const zones = chooseZones(input.values.region, offered, requested);
  const versions = input.versions ?? (await eksVersions(input.clients.eks));
  const chosen = chooseVersion(input.values.kubernetesVersion, versions, existing);
  // An existing cluster keeps its version; only a new one must be on a version EKS still offers.
  if (!existing) checkKubernetesVersion(chosen.version, offeredForNewClusters(versions));
  const version = input.eksctl ? await eksctlVersion(input.eksctl) : undefined;
  return {
    values: { ...input.values, zones, kubernetesVersion: chosen.version },
    identity,
    eksctlVersion: version,
    versions,
    versionSource: chosen.source,
    existing,
  };
}

function chooseVersion(
  asked: string | undefined,
  versions: EksVersion[] | undefined,
  existing: ClusterInfo | undefined,
): { version: string; source: CreatePreflight["versionSource"] } {
  if (existing?.version) return { version: existing.version, source: "existing" };
  if (asked) return { version: asked, source: "asked" };
  const eksDefault = versions && defaultVersionForNewClusters(versions);
  if (eksDefault) return { version: eksDefault, source: "eks-default" };
  throw new UsageError("EKS did not say which Kubernetes version it gives new clusters.", {
    hint: "Choose one with --kubernetes-version (or cluster.kubernetesVersion in clouddrove.yaml); `aws eks describe-cluster-versions` lists them.",
  });
}
