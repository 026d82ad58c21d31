/**
 * The eksctl step of `cluster create`: `eksctl create cluster -f FILE` for a new cluster; for an existing
 * one, eksctl's own reconciling commands (missing node groups and addons are created, addon configuration
 * is updated, the kubeconfig context is written). eksctl's log lines are streamed into the task, each
 * level marked apart (ℹ info, ✔ success, ! warning, ✖ error); warnings are kept for the final report.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ListrTask } from "listr2";
import { type EksctlEnvironment, runEksctl } from "../../adapters/eksctl.js";
import type { EksctlLine } from "../../core/cluster/eksctl-output.js";
import { eksctlCommandLine } from "../../core/cluster/plan.js";
import type { ClusterContext } from "./context.js";

export interface EksctlStepOptions extends EksctlEnvironment {
  timeoutMs: number;
  timeoutText: string;
  signal?: AbortSignal;
  /** Directory for the ClusterConfig file handed to eksctl. */
  workDir: string;
  /** --kubeconfig, so eksctl writes the context where clouddrove (and the user) will read it. */
  kubeconfigPath?: string;
}

const MARKS: Record<EksctlLine["level"], string> = {
  info: "[ℹ]",
  success: "[✔]",
  warning: "[!]",
  error: "[✖]",
  debug: "[▶]",
  plain: "   ",
};

/** The eksctl invocations for this run, in order. */
export function eksctlCommands(
  input: { exists: boolean; name: string; region: string },
  configFile: string,
  kubeconfigPath?: string,
): string[][] {
  const kubeconfig = kubeconfigPath ? ["--kubeconfig", kubeconfigPath] : [];
  if (!input.exists) return [["create", "cluster", "-f", configFile, ...kubeconfig]];
  const { name, region } = input;
  return [
    ["create", "nodegroup", "-f", configFile],
    ["create", "addon", "-f", configFile],
    ["update", "addon", "-f", configFile],
    ["utils", "write-kubeconfig", "--cluster", name, "--region", region, ...kubeconfig],
  ];
}

export function writeClusterConfigFile(context: ClusterContext, workDir: string): string {
  const path = join(workDir, `eksctl-${context.values.name}.yaml`);
  writeFileSync(path, context.clusterConfig, { mode: 0o600 });
  return path;
}

export function eksctlTask(options: EksctlStepOptions): ListrTask<ClusterContext> {
  return {
    title: "Create the EKS cluster with eksctl",
    task: async (context, task) => {
      const configFile = writeClusterConfigFile(context, options.workDir);
      const commands = eksctlCommands(
        { exists: context.existing !== undefined, name: context.values.name, region: context.values.region },
        configFile,
        options.kubeconfigPath,
      );
      task.title = context.existing
        ? `Reconcile the existing EKS cluster ${context.values.name} with eksctl`
        : `Create EKS cluster ${context.values.name} with eksctl (15-30 minutes)`;
      for (const args of commands) {
        task.output = `$ ${eksctlCommandLine(args)}`;
        await runEksctl(args, {
          env: options.env,
          cwd: options.cwd,
          timeoutMs: options.timeoutMs,
          timeoutText: options.timeoutText,
          signal: options.signal,
          context: {
            cluster: context.values.name,
            region: context.values.region,
            zones: context.values.zones,
          },
          onLine: (line) => {
            if (line.level === "debug") return;
            if (line.level === "warning") context.warnings.push(`eksctl: ${line.message}`);
            task.output = `${MARKS[line.level]} ${line.message}`;
          },
        });
        context.done.push(eksctlCommandLine(args));
      }
    },
    rendererOptions: { outputBar: 5 },
  };
}
