/**
 * What the upgrade steps share: the cluster, the resolved options, the state record that persists
 * between runs, what each step found (preflight per node, the health report), and request counts.
 */
import type { V1Deployment } from "@kubernetes/client-node";
import type { DrainStats } from "../../adapters/drain.js";
import type { Kube } from "../../adapters/kube.js";
import type { Config } from "../../config/schema.js";
import type { HealthReport } from "../../core/health/evaluate.js";
import type { PreflightResult } from "../../core/upgrade/preflight.js";
import type { UpgradeState } from "../../core/upgrade/state.js";
import type { UpgradeTargets } from "../../core/upgrade/targets.js";

export interface UpgradeOptions {
  targets: UpgradeTargets;
  drain: { force: boolean; deleteEmptyDirData: boolean; gracePeriodSeconds?: number };
  drainTimeoutMs: number;
  drainTimeoutText: string;
  healthTimeoutMs: number;
  backupTimeoutMs: number;
  eksctlTimeoutMs: number;
  eksctlTimeoutText: string;
  /** Pause after an eviction refused with 429 (kubectl: 5 s). */
  evictionRetryMs: number;
  /** Push an image before and pull it after through port-forwards (off: --no-registry-check). */
  registryCheck: boolean;
  skipBackup: boolean;
  /** Take over fields of the registry objects that another field manager owns. */
  forceConflicts: boolean;
  resume: boolean;
  dryRun: boolean;
  signal?: AbortSignal;
}

export interface UpgradeContext {
  kube: Kube;
  config: Config;
  namespace: string;
  options: UpgradeOptions;
  state: UpgradeState;
  /** Rollback payload kept beside the state: the registry's config and Deployment before the bump. */
  previous: { config?: string; deployment?: V1Deployment };
  /** The command's environment (PATH, AWS_*, KUBECONFIG) and directory: the AWS clients' and the upgrade command's. */
  environment: { env: NodeJS.ProcessEnv; cwd: string };
  /** The API server's version (for the skew policy and the expected kubelets). */
  controlPlaneVersion?: string;
  /** Each node's kubelet when the run started, to check that the ones not upgraded kept theirs. */
  kubeletBefore: Record<string, string>;
  preflight: Map<string, PreflightResult>;
  health: HealthReport | null;
  warnings: string[];
  stats: DrainStats;
  /** A step's one-line detail for the JSON report (set by the step, read by the recorder). */
  detail?: string;
  /** Set by a step that had nothing to do (resumed past it, or not asked for): why. */
  skipped?: string;
  /** The dry run's rehearsal and runbook per node. */
  plan: { rehearsal: Record<string, string[]>; commands: Record<string, string[]> };
}
