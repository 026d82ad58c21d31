/**
 * Which Kubernetes version a new cluster gets, and what a version's support costs. EKS names the version
 * it gives new clusters by default (DescribeClusterVersions `defaultVersion`) and the support phase of
 * each: standard support, then extended support, billed $0.60 per cluster-hour instead of $0.10
 * (docs/facts.md, "EKS versions"). A hard-coded default ages into extended support without anyone
 * noticing, so the default is asked of EKS every time.
 */

export type SupportPhase = "standard" | "extended" | "unsupported";

export interface EksVersion {
  /** A minor, e.g. "1.35". */
  version: string;
  support: SupportPhase;
  /** EKS gives new clusters this version when none is asked for. */
  isDefault: boolean;
  /** ISO 8601 dates, when EKS says. */
  endOfStandardSupport?: string;
  endOfExtendedSupport?: string;
}

/** Per cluster-hour, in US dollars (docs/facts.md). */
export const STANDARD_SUPPORT_PRICE = 0.1;
export const EXTENDED_SUPPORT_PRICE = 0.6;
/** `status` and `cluster verify` warn this many days before standard support ends. */
export const SUPPORT_WARNING_DAYS = 60;
const HOURS_PER_MONTH = 730;

const minor = (version: string) => Number(version.split(".")[1] ?? Number.NaN);

/** The version for a new cluster: EKS's default, else the newest in standard support. */
export function defaultVersionForNewClusters(versions: readonly EksVersion[]): string | undefined {
  const named = versions.find((v) => v.isDefault && v.support === "standard");
  if (named) return named.version;
  return versions
    .filter((v) => v.support === "standard")
    .map((v) => v.version)
    .sort((a, b) => minor(b) - minor(a))[0];
}

/** "$0.60 per cluster-hour instead of $0.10, about $365 a month more". */
export function extendedSupportCost(): string {
  const extra = Math.round((EXTENDED_SUPPORT_PRICE - STANDARD_SUPPORT_PRICE) * HOURS_PER_MONTH);
  return `EKS bills $${EXTENDED_SUPPORT_PRICE.toFixed(2)} per cluster-hour in extended support instead of $${STANDARD_SUPPORT_PRICE.toFixed(2)}, about $${extra} a month more per cluster`;
}

const DAY_MS = 86_400_000;

/**
 * What to tell the owner of a cluster on `version`: nothing while standard support has more than
 * SUPPORT_WARNING_DAYS to run, a warning before it ends, and the cost once it has.
 */
export function supportWarning(
  version: string,
  versions: readonly EksVersion[],
  now: Date,
): string | undefined {
  const info = versions.find((v) => v.version === version);
  if (!info) return undefined;
  const newest = defaultVersionForNewClusters(versions);
  const wayOut = newest
    ? ` Upgrade the cluster (one minor at a time) towards ${newest}: control plane, add-ons, then the node groups.`
    : "";
  if (info.support === "unsupported") {
    return `Kubernetes ${version} is past the end of EKS's extended support: EKS upgrades such clusters automatically.${wayOut}`;
  }
  if (info.support === "extended") {
    const ends = info.endOfExtendedSupport ? ` until ${info.endOfExtendedSupport.slice(0, 10)}` : "";
    return `Kubernetes ${version} is in EKS extended support${ends}: ${extendedSupportCost()}.${wayOut}`;
  }
  if (info.endOfStandardSupport) {
    const days = Math.ceil((Date.parse(info.endOfStandardSupport) - now.getTime()) / DAY_MS);
    if (days <= SUPPORT_WARNING_DAYS) {
      return `Kubernetes ${version} leaves EKS standard support on ${info.endOfStandardSupport.slice(0, 10)} (in ${Math.max(days, 0)} day(s)); after that ${extendedSupportCost()}.${wayOut}`;
    }
  }
  return undefined;
}

/** A prompt's label for a version: "1.35 (EKS default)", "1.33 (extended support: $0.60/cluster-hour)". */
export function versionLabel(v: EksVersion): string {
  if (v.support === "extended")
    return `${v.version} (extended support: $${EXTENDED_SUPPORT_PRICE.toFixed(2)}/cluster-hour)`;
  return v.isDefault ? `${v.version} (EKS default)` : v.version;
}
