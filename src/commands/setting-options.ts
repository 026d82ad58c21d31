/**
 * Adds one flag per setting to a command, straight from the settings table, so that every setting a
 * command uses can be given as a flag (and, by the same table, as CLOUDDROVE_* and a file key).
 * COMMAND_SETTINGS says which settings each command uses; README's "Where each setting's flag is
 * accepted" shows the same table and a test keeps the two and the commands' options in step.
 */
import { type Command, Option } from "commander";
import { envVarName, SETTINGS, type Setting } from "../config/settings.js";

/** Settings whose flag is already a global flag of the program. */
const GLOBAL_FLAGS = new Set(["namespace"]);

export function addSettingOptions(command: Command, include: (setting: Setting) => boolean): Command {
  for (const setting of SETTINGS) {
    if (GLOBAL_FLAGS.has(setting.flag) || !include(setting)) continue;
    const placeholder = setting.kind === "list" ? "<items>" : setting.kind === "integer" ? "<n>" : "<value>";
    const option = new Option(
      `--${setting.flag} ${placeholder}`,
      `${setting.description} [${envVarName(setting.key)}]`,
    );
    if (setting.choices) option.choices(setting.choices);
    command.addOption(option);
    if (setting.shortcut) {
      command.option(
        `--${setting.shortcut.flag}`,
        `${setting.shortcut.description} (short for --${setting.flag} ${setting.shortcut.value})`,
      );
    }
  }
  return command;
}

/** Settings given as keys and key prefixes ("backup." is every backup setting). */
function keys(...patterns: string[]): { include: (s: Setting) => boolean; summary: string } {
  return {
    include: (s) => patterns.some((p) => (p.endsWith(".") ? s.key.startsWith(p) : s.key === p)),
    summary: patterns.map((p) => (p.endsWith(".") ? `${p}*` : p)).join(", "),
  };
}

const every = { include: (_: Setting) => true, summary: "every setting" };
/** verify and delete check (and delete) the recorded file system; create makes one. */
const cluster = ["cluster.", "timeouts.eksctl"];
/** Where the bucket is and how the Jobs reach it. */
const backupWhere = [
  "backup.bucket",
  "backup.prefix",
  "backup.region",
  "backup.endpoint",
  "backup.credentials",
  "backup.roleArn",
];
/** The bucket and the access the backup and restore Jobs have to it; not the CronJob's schedule or retention. */
const backupBucket = [...backupWhere, "backup.secretName", "cluster.region"];
/** What `cluster create` makes for backups: the bucket, where, and the role of the Job that uses it. */
const backupSetup = ["backup.setup", ...backupWhere];

/**
 * The settings each command reads, by command path. A setting a command does not read has no flag there
 * (`backup now --help` does not offer --backup-schedule, which only `deploy` renders into the CronJob). `upgrade` reads
 * the cluster's name and region (its EKS nodegroups); its --registry-version and --kubernetes-version
 * are upgrade targets and its --timeout the drain deadline, declared by the command itself. The commands
 * that change the registry take its lock and read timeouts.lock (--wait-for-lock).
 */
export const COMMAND_SETTINGS = {
  init: every,
  "config show": every,
  "cluster create": keys(...cluster, ...backupSetup),
  "cluster verify": keys(...cluster, "storage.efs.fileSystemId"),
  "cluster upgrade": keys(...cluster),
  "cluster delete": keys(...cluster, "storage.efs.fileSystemId", "backup.bucket", "backup.roleArn"),
  deploy: keys(
    "cluster.name",
    "cluster.region",
    "registry.",
    "storage.",
    "network.",
    "tls.",
    "backup.",
    "timeouts.deploy",
    "timeouts.lock",
  ),
  status: keys("cluster.region", "registry.image", "registry.version", "registry.replicas", "tls."),
  "backup now": keys(...backupBucket, "timeouts.lock"),
  "backup list": keys(...backupBucket),
  "backup snapshot": keys(...backupBucket),
  "backup verify": keys(...backupBucket),
  "backup restore": keys(
    ...backupBucket,
    "registry.replicas",
    "registry.initImage",
    "storage.size",
    "timeouts.lock",
  ),
  upgrade: keys("cluster.name", "cluster.region", "timeouts.eksctl", "timeouts.lock"),
  gc: keys("timeouts.deploy", "timeouts.lock"),
  trust: keys("trust."),
  login: keys("tls.mode", "tls.hostname", "trust."),
} as const;

export type SettingsCommand = keyof typeof COMMAND_SETTINGS;

/** Adds the flags of the settings `path` reads (COMMAND_SETTINGS). */
export function addCommandSettings(command: Command, path: SettingsCommand): Command {
  return addSettingOptions(command, COMMAND_SETTINGS[path].include);
}
