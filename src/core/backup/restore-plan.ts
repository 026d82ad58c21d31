/**
 * The restore as a plan a person can read before it runs, the typed confirmation it needs, and — for
 * every point at which it can stop — exactly what state the registry is in and the commands that finish
 * the job. A restore over live data stops the registry, so leaving it half-done without saying how to
 * bring it back is not an option.
 */
import { UsageError } from "../../errors.js";
import { commandLine, type Reach } from "../command-line.js";
import { names } from "../render/names.js";

/**
 * Where a restore stopped: in one of its steps, or "restored" (the restore Job finished, the registry
 * was not started yet).
 */
export type RestorePhase = "verify" | "stop" | "restore" | "restored" | "start" | "health";

export interface RestoreTarget {
  namespace: string;
  key: string;
  /** Restoring into another claim (--to-claim): the live registry is never stopped. */
  toClaim?: string;
  /** Replicas to bring back (the count before the restore stopped them). */
  replicas: number;
  jobName: string;
  /** The flags the printed commands need to reach the same cluster (kubectl's and clouddrove's). */
  reach?: Reach;
}

/** Remembered on the Deployment while it is stopped, so a re-run after a failure restarts the right count. */
export const REPLICAS_BEFORE_RESTORE = "clouddrove.io/replicas-before-restore";

/** What the operator types to confirm a restore over live data: the namespace, which names the registry. */
export function confirmationWord(namespace: string): string {
  return namespace;
}

export function confirmationQuestion(target: RestoreTarget): string {
  return (
    `This stops the registry in namespace ${target.namespace} and replaces its data with ${target.key}. ` +
    `Type the namespace (${confirmationWord(target.namespace)}) to restore`
  );
}

/**
 * Without a person to ask, only `--confirm NAMESPACE` restores over live data. Throws (exit 2, nothing
 * changed) when the confirmation is missing or wrong.
 */
export function checkConfirmation(namespace: string, given: string | undefined): void {
  const word = confirmationWord(namespace);
  if (given === word) return;
  throw new UsageError(
    given === undefined
      ? `Restoring over the live registry in namespace ${namespace} needs a typed confirmation; nothing was changed.`
      : `--confirm ${given} does not match the namespace ${namespace}; nothing was changed.`,
    {
      hint: `Pass --confirm ${word} (the registry's namespace) to restore without a prompt, or --to-claim NAME to restore into another claim and leave the registry running.`,
    },
  );
}

export function restorePlan(target: RestoreTarget): string[] {
  const { namespace, key, toClaim } = target;
  if (toClaim) {
    return [
      `1. Verify ${key} (checksum and registry layout), streamed from S3`,
      `2. Restore it into claim ${toClaim} with Job ${target.jobName}; the live registry keeps running`,
    ];
  }
  return [
    `1. Verify ${key} (checksum and registry layout), streamed from S3; refuse it if it does not verify`,
    `2. Stop writes: scale deployment ${names.deployment} in ${namespace} from ${target.replicas} to 0 and wait until no replica runs`,
    `3. Restore into claim ${names.claim} with Job ${target.jobName} (the previous data is kept as docker.pre-restore-<time>)`,
    `4. Scale the registry back to ${target.replicas} and wait for the rollout`,
    "5. Run the health checks",
  ];
}

export interface RestoreStopReport {
  /** One sentence: what the registry and its data are like now. */
  state: string;
  /** Commands that finish (or undo) the job, in the order to run them. */
  finish: string[];
}

/** What a restore that stopped in `phase` left behind, and how to finish. */
export function restoreStoppedIn(phase: RestorePhase, target: RestoreTarget): RestoreStopReport {
  const { namespace, key, replicas, jobName, toClaim, reach } = target;
  const kubectl = (ns: string, rest: string) => commandLine("kubectl", reach?.kubectl, `-n ${ns} ${rest}`);
  const clouddrove = (subcommand: string, rest = "") =>
    commandLine(`clouddrove ${subcommand}`, reach?.clouddrove, rest);
  const again = clouddrove(
    "backup restore",
    `--from ${key}${toClaim ? ` --to-claim ${toClaim}` : ` --confirm ${confirmationWord(namespace)}`}`,
  );
  const status = clouddrove("status");
  const scaleBack = kubectl(namespace, `scale deployment ${names.deployment} --replicas=${replicas}`);
  if (toClaim) {
    if (phase === "verify") {
      return { state: `Nothing was changed; claim ${toClaim} was not written.`, finish: [] };
    }
    return {
      state:
        `The live registry was not touched. Job ${jobName} did not finish restoring into claim ${toClaim}; ` +
        "restore.sh swaps data in only after the whole archive verified, so the claim holds either its old data or the restored data.",
      finish: [kubectl(namespace, `logs job/${jobName}`), again],
    };
  }
  switch (phase) {
    case "verify":
      return { state: "Nothing was changed: the registry keeps serving its data as it was.", finish: [] };
    case "stop":
      return {
        state:
          `The registry is stopped or stopping (deployment ${names.deployment} scaled to 0, was ${replicas}); ` +
          "its data was not changed.",
        finish: [
          `${scaleBack}    # to undo: start the registry again with its current data`,
          `${again}    # or to continue the restore`,
        ],
      };
    case "restore":
      return {
        state:
          `The registry is stopped (0 replicas, was ${replicas}). Job ${jobName} did not finish: restore.sh swaps the data ` +
          "in by renaming only after the whole archive verified, so the claim holds either the old data or the restored data (its log says which).",
        finish: [
          kubectl(namespace, `logs job/${jobName}`),
          `${scaleBack}    # start the registry with the data as it is now`,
          `${again}    # or restore again`,
        ],
      };
    case "restored":
      return {
        state: `The data was restored from ${key}; the registry is still stopped (0 replicas, was ${replicas}).`,
        finish: [scaleBack, status],
      };
    case "start":
      return {
        state: `The data was restored from ${key}; the registry was scaled back to ${replicas} but has not rolled out yet.`,
        finish: [kubectl(namespace, `rollout status deployment/${names.deployment}`), status],
      };
    case "health":
      return {
        state: `The data was restored from ${key} and the registry runs again, but the health checks found problems.`,
        finish: [status],
      };
  }
}

/** Replicas to start again: the count remembered while stopped (a re-run), else the live one, else the configured one. */
export function replicasToRestore(
  deployment:
    | { metadata?: { annotations?: Record<string, string> }; spec?: { replicas?: number } }
    | undefined,
  configured: number,
): number {
  const remembered = Number(deployment?.metadata?.annotations?.[REPLICAS_BEFORE_RESTORE]);
  if (Number.isInteger(remembered) && remembered > 0) return remembered;
  const live = deployment?.spec?.replicas;
  return typeof live === "number" && live > 0 ? live : configured;
}

/** A new claim for --to-claim: ReadWriteMany like the registry's, the given class, the live claim's size. */
export function restoreClaimObject(namespace: string, name: string, storageClass: string, size: string) {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name,
      namespace,
      labels: { ...names.commonLabels, ...names.backupPodLabels },
    },
    spec: {
      accessModes: ["ReadWriteMany"],
      storageClassName: storageClass,
      volumeMode: "Filesystem",
      resources: { requests: { storage: size } },
    },
  };
}
