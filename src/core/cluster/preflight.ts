/**
 * Pure preflight checks for `cluster create`: given what AWS and eksctl answered, decide whether the
 * request can work, before anything is created. Every failure is a UsageError (exit 2, nothing changed)
 * whose hint names the fix.
 */
import { UsageError } from "../../errors.js";
import { MIN_EKSCTL_VERSION, OLDEST_KUBERNETES_MINOR } from "./constants.js";

export interface ZoneInfo {
  name: string;
  /** "available", "impaired", "unavailable", ... (EC2 DescribeAvailabilityZones State). */
  state: string;
  /** "availability-zone", "local-zone" or "wavelength-zone"; only the first can host EKS subnets here. */
  type?: string;
}

export const ZONES_NEEDED = 3;

/** Zones that can take a worker and a control-plane subnet. */
export function usableZones(offered: readonly ZoneInfo[]): string[] {
  return offered
    .filter((z) => z.state === "available" && (z.type === undefined || z.type === "availability-zone"))
    .map((z) => z.name)
    .sort();
}

/**
 * The three zones to use: the requested ones when given (each must be offered by the region), else the
 * first three the region offers.
 */
export function chooseZones(
  region: string,
  offered: readonly ZoneInfo[],
  requested: readonly string[],
): string[] {
  const usable = usableZones(offered);
  if (usable.length < ZONES_NEEDED) {
    throw new UsageError(
      `Region ${region} offers ${usable.length} available zone(s) (${usable.join(", ") || "none"}); a regional cluster needs ${ZONES_NEEDED}, one per worker.`,
      { hint: "Choose a region with at least three availability zones (--region)." },
    );
  }
  if (requested.length === 0) return usable.slice(0, ZONES_NEEDED);
  const foreign = requested.filter((zone) => !usable.includes(zone));
  if (foreign.length > 0) {
    throw new UsageError(
      `Zone(s) ${foreign.join(", ")} ${foreign.length === 1 ? "is" : "are"} not an available zone of region ${region}.`,
      {
        hint: `Use zones of ${region}: --zones ${usable.slice(0, ZONES_NEEDED).join(",")} (offered: ${usable.join(", ")}).`,
      },
    );
  }
  if (new Set(requested).size < ZONES_NEEDED) {
    throw new UsageError(`--zones must name ${ZONES_NEEDED} distinct zones; got ${requested.join(", ")}.`, {
      hint: `For example --zones ${usable.slice(0, ZONES_NEEDED).join(",")}.`,
    });
  }
  return [...requested];
}

/** "1.33" < "1.34"; "0.190.0" < "0.200.1". Missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split(".").map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * The Kubernetes minor must be one EKS supports. `supported` is what AWS answered (DescribeClusterVersions);
 * without it only the floor is checked, and eksctl/EKS have the last word.
 */
export function checkKubernetesVersion(version: string, supported?: readonly string[]): void {
  if (compareVersions(version, OLDEST_KUBERNETES_MINOR) < 0) {
    throw new UsageError(`Kubernetes ${version} is no longer supported by EKS.`, {
      hint: `Use a current version with --kubernetes-version${supported?.length ? ` (EKS offers ${supported.join(", ")})` : ""}.`,
    });
  }
  if (supported && supported.length > 0 && !supported.includes(version)) {
    throw new UsageError(`Kubernetes ${version} is not a version EKS offers for new clusters.`, {
      hint: `Use one of ${supported.join(", ")} with --kubernetes-version.`,
    });
  }
}

/** `eksctl version` prints e.g. "0.210.0" (or "0.210.0-dev+..." for builds from source). */
export function parseEksctlVersion(output: string): string | undefined {
  return /(\d+\.\d+\.\d+)/.exec(output)?.[1];
}

export function checkEksctlVersion(output: string): string {
  const version = parseEksctlVersion(output);
  if (!version) {
    throw new UsageError(`Could not read eksctl's version from "${output.trim()}".`, {
      hint: "Reinstall eksctl from https://eksctl.io/installation/ and check `eksctl version`.",
    });
  }
  if (compareVersions(version, MIN_EKSCTL_VERSION) < 0) {
    throw new UsageError(`eksctl ${version} is too old; clouddrove needs ${MIN_EKSCTL_VERSION} or newer.`, {
      hint: "Upgrade eksctl (https://eksctl.io/installation/), then run the command again.",
    });
  }
  return version;
}
