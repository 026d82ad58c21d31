/**
 * What an upgrade changes during a node's maintenance window, and the rules that refuse a target before
 * anything changes: the Kubernetes version-skew policy for kubelets, the registry versions this command
 * knows how to reach, and flag combinations that cannot both happen.
 */

export interface UpgradeTargets {
  /** Registry image tag to move to, e.g. "3.0.0" (the 2.x -> 3.x major upgrade). */
  registryVersion?: string;
  /** Kubernetes minor for the node's EKS nodegroup, e.g. "1.33". */
  kubernetesVersion?: string;
  /** A command run while the node is drained (in-place maintenance on clusters clouddrove did not create). */
  upgradeCommand?: string;
}

export type TargetKind = keyof UpgradeTargets;

export const TARGET_CHOICES: ReadonlyArray<{ kind: TargetKind; flag: string; description: string }> = [
  {
    kind: "registryVersion",
    flag: "--registry-version V",
    description: "the registry's version, e.g. 3.0.0 (Distribution 2.x -> 3.x)",
  },
  {
    kind: "kubernetesVersion",
    flag: "--kubernetes-version V",
    description: "the node's Kubernetes version through its EKS nodegroup, e.g. 1.33",
  },
  {
    kind: "upgradeCommand",
    flag: "--upgrade-command CMD",
    description: "a command run while the node is drained (NODE in its environment)",
  },
];

export function hasTarget(targets: UpgradeTargets): boolean {
  return Boolean(targets.registryVersion || targets.kubernetesVersion || targets.upgradeCommand);
}

/** One line naming what changes, for titles and messages. */
export function describeTargets(targets: UpgradeTargets): string {
  const parts: string[] = [];
  if (targets.registryVersion) parts.push(`registry ${targets.registryVersion}`);
  if (targets.kubernetesVersion) parts.push(`Kubernetes ${targets.kubernetesVersion}`);
  if (targets.upgradeCommand) parts.push(`command \`${targets.upgradeCommand}\``);
  return parts.join(" + ") || "nothing (drain and uncordon only)";
}

/** "v1.33.5-eks-abc" / "1.33" / "1.33.5" -> [1, 33]; undefined when it is not a version. */
export function minorVersion(version: string | undefined | null): [number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)/.exec((version ?? "").trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2])];
}

export const formatMinor = ([major, minor]: [number, number]) => `${major}.${minor}`;

/**
 * The version-skew policy for a kubelet moved to `target`: not newer than the control plane, not more
 * than 3 minors older than it, and one minor at a time (no skipped minor) from what the node runs now.
 * Returns the problem, or undefined when the move is allowed.
 */
export function skewProblem(options: {
  controlPlane: string;
  nodeKubelet: string | undefined;
  target: string;
  node: string;
}): string | undefined {
  const target = minorVersion(options.target);
  const plane = minorVersion(options.controlPlane);
  if (!target || !/^\d+\.\d+$/.test(options.target.trim())) {
    return `"${options.target}" is not a Kubernetes minor version (write it like "1.33")`;
  }
  if (!plane) return `the control plane's version "${options.controlPlane}" cannot be read`;
  if (target[0] !== plane[0]) {
    return `Kubernetes ${options.target} is another major version than the control plane (${formatMinor(plane)})`;
  }
  if (target[1] > plane[1]) {
    return `a kubelet may not be newer than the control plane: ${options.target} > ${formatMinor(plane)} (upgrade the control plane first: eksctl upgrade cluster --approve)`;
  }
  if (target[1] < plane[1] - 3) {
    return `a kubelet may be at most 3 minors older than the control plane (${formatMinor(plane)}): ${options.target} is ${plane[1] - target[1]} older`;
  }
  const current = minorVersion(options.nodeKubelet);
  if (current) {
    if (target[1] < current[1]) {
      return `node ${options.node} runs ${options.nodeKubelet}; moving it to ${options.target} is a downgrade, which EKS nodegroups do not do`;
    }
    if (target[1] > current[1] + 1) {
      return `node ${options.node} runs ${formatMinor(current)}; going to ${options.target} skips ${target[1] - current[1] - 1} minor version(s): upgrade one minor at a time (${formatMinor(current)} -> ${current[0]}.${current[1] + 1})`;
    }
  }
  return undefined;
}

/** The registry versions this command migrates between: 2.x -> 3.x (and 2.x -> 2.y, 3.x -> 3.y). */
export function registryVersionProblem(from: string | undefined, to: string): string | undefined {
  const target = /^(\d+)\.(\d+)\.(\d+)$/.exec(to.trim());
  if (!target) return `"${to}" is not a registry release such as 3.0.0`;
  const toMajor = Number(target[1]);
  if (toMajor < 2 || toMajor > 3) return `registry ${to}: only Distribution 2.x and 3.x are known`;
  const current = /^(\d+)\./.exec(from ?? "");
  if (current && Number(current[1]) > toMajor) {
    return `the registry runs ${from}; ${to} would be a downgrade across a major version, which is not supported (restore a backup instead)`;
  }
  return undefined;
}

/** Combinations that cannot be one maintenance window. */
export function targetConflicts(targets: UpgradeTargets): string | undefined {
  if (targets.kubernetesVersion && targets.upgradeCommand) {
    return "--kubernetes-version replaces the node (a new node joins, the old one is removed) while --upgrade-command works in place on the same node: choose one";
  }
  return undefined;
}
