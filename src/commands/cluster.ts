/**
 * `clouddrove cluster create | verify | upgrade | delete`: the regional EKS cluster (three zones, one worker per
 * zone) and the shared EFS storage the registry needs. Flags are declared here eagerly; everything heavy
 * (AWS SDK, execa, listr2, client-node, yaml) is imported inside the actions (cluster-create.ts,
 * cluster-verify.ts, cluster-upgrade.ts, cluster-delete.ts; the shared settings in cluster-settings.ts).
 * Each action: resolve options -> ask what is missing -> preflight -> plan -> confirm -> steps -> report.
 */
import type { Command } from "commander";
import { clusterCreate } from "./cluster-create.js";
import { clusterDelete } from "./cluster-delete.js";
import type { Flags } from "./cluster-settings.js";
import { clusterUpgrade } from "./cluster-upgrade.js";
import { clusterVerify } from "./cluster-verify.js";
import { type AppIO, type CommandContext, createContext, type RunState } from "./context.js";
import { addCommandSettings } from "./setting-options.js";

export function registerCluster(program: Command, io: AppIO, state: RunState): void {
  const cluster = program
    .command("cluster")
    .description("the regional EKS cluster across three zones that the registry runs on");
  // Every subcommand takes the cluster settings' flags and runs its action with the command's context.
  const withAction = (command: Command, action: (ctx: CommandContext, flags: Flags) => Promise<void>) => {
    addCommandSettings(command, `cluster ${command.name()}` as "cluster create");
    command.action(async (flags: Flags, invoked: Command) => {
      await action(createContext(io, invoked, state), flags);
    });
  };

  withAction(
    cluster
      .command("create")
      .description("create (or reconcile) the EKS cluster, its EFS storage, and verify them")
      .option(
        "--dry-run",
        "show the plan and the eksctl ClusterConfig (-o yaml: the config alone); change nothing",
      )
      .option("--sandbox", "set up the simulated three-zone sandbox cluster instead (no eksctl, no AWS)"),
    clusterCreate,
  );

  withAction(
    cluster
      .command("verify")
      .description(
        "check zones, workers, network policy, CSI drivers and EFS mount targets (exit 1 if any fails)",
      )
      .option("--sandbox", "check the simulated sandbox cluster instead (no AWS)"),
    clusterVerify,
  );

  withAction(
    cluster
      .command("upgrade")
      .description(
        "move the cluster one Kubernetes minor up: control plane, add-ons, then the nodes one at a time",
      )
      .option("--dry-run", "show the plan (what is already at the version, what moves); change nothing")
      .option("--sandbox", "upgrade the simulated sandbox cluster instead (its AWS endpoint)"),
    clusterUpgrade,
  );

  withAction(
    cluster
      .command("delete")
      .description("delete the cluster (typed confirmation); the EFS data is kept unless --delete-data")
      .option("--confirm <name>", "the cluster's name, confirming the deletion without a prompt")
      .option(
        "--delete-data",
        "also delete the EFS file system with the registry's data (asks a second time)",
      )
      .option(
        "--confirm-delete-data <fs-id>",
        "the EFS file system id, confirming --delete-data without a prompt",
      )
      .option("--dry-run", "show what would be deleted; change nothing"),
    clusterDelete,
  );
}
